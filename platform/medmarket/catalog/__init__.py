"""The storefront: search and browse approved doctors, each doctor's page."""

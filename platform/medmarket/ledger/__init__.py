"""The double-entry ledger (integer minor units), hospital agreements and settlement
statements."""

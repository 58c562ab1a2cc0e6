"""Partner pharmacies (a partner hospital's own, or independent) and the pharmacists who work
in them: where prescriptions are reviewed and dispensed."""

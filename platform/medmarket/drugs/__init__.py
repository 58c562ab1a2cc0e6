"""The drug catalog: medicines by generic name, dosage form and strength, with their WHO ATC
codes, for prescriptions, pharmacy stock and prices to refer to."""

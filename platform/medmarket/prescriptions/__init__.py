"""E-prescriptions: what a doctor writes at the end of a visit, checked by the safety rules,
signed with the doctor's key and reviewed by a pharmacist before anything is dispensed."""

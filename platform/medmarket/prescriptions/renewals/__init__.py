"""Repeat prescriptions (复诊续方): renewing a chronic follow-up prescription without a call
(README.md beside this file)."""

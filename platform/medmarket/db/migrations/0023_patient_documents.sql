-- Documents of earlier diagnoses a patient keeps (and cites when booking a follow-up visit).
-- Health data: each row names the consent it was collected under.

CREATE TABLE patient_documents (
    id            uuid PRIMARY KEY,
    patient_id    uuid NOT NULL REFERENCES patients (id),
    kind          text NOT NULL CHECK (kind IN ('diagnosis', 'report', 'imaging', 'prescription',
                                                'other')),
    institution   text NOT NULL CHECK (length(institution) BETWEEN 2 AND 200),
    issued_on     date NOT NULL,
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content_type  text NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg',
                                                        'image/png')),
    size_bytes    integer NOT NULL CHECK (size_bytes > 0),
    sha256        text NOT NULL,
    original_name text NOT NULL DEFAULT '',
    consent_id    uuid NOT NULL REFERENCES health_data_consents (id),
    uploaded_by   uuid NOT NULL REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    removed_at    timestamptz
);
CREATE INDEX patient_documents_by_patient ON patient_documents (patient_id, created_at DESC);

CREATE TRIGGER patient_documents_need_consent
    BEFORE INSERT ON patient_documents
    FOR EACH ROW EXECUTE FUNCTION require_active_consent();

ALTER TABLE bookings
    ADD CONSTRAINT bookings_prior_document FOREIGN KEY (prior_document_id)
        REFERENCES patient_documents (id);

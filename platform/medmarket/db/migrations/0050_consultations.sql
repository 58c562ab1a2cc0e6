-- Consultations: the visit of a confirmed booking. One per booking (made when payment
-- confirms it). Its lifecycle: scheduled -> waiting (the patient entered the waiting room)
-- -> in_progress (the doctor admitted them) -> completed | no_show | terminated, or
-- cancelled when its booking was cancelled (by either side, or the doctor did not attend).
-- How it ends is the booking's business (refunds are decided there); a trigger below makes
-- the consultation follow its booking, whichever way the booking ends.

CREATE TABLE consultations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    booking_id        uuid NOT NULL UNIQUE REFERENCES bookings (id),
    status            text NOT NULL DEFAULT 'scheduled' CHECK (status IN (
                          'scheduled', 'waiting', 'in_progress', 'completed', 'no_show',
                          'terminated', 'cancelled')),
    -- The video provider serving the call (an installed one; "webrtc" is built in) and
    -- whether it should aim for the high-throughput profile (e.g. remote ultrasound).
    video_provider    text NOT NULL DEFAULT 'webrtc'
                      CHECK (video_provider ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    high_throughput   boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- When the patient first entered the waiting room, and when each side was first seen
    -- in the room (its signaling connection): the doctor no-show job reads doctor_joined_at.
    waiting_since     timestamptz,
    patient_joined_at timestamptz,
    doctor_joined_at  timestamptz,
    started_at        timestamptz,
    started_by        uuid REFERENCES users (id),
    ended_at          timestamptz,
    -- The last chat message's number; taken under this row's lock, so numbers commit in order.
    chat_seq          bigint NOT NULL DEFAULT 0 CHECK (chat_seq >= 0),
    CHECK (status <> 'waiting' OR waiting_since IS NOT NULL),
    CHECK (status <> 'in_progress' OR started_at IS NOT NULL),
    CHECK ((started_at IS NULL) = (started_by IS NULL)),
    CHECK ((status IN ('completed', 'no_show', 'terminated', 'cancelled')) = (ended_at IS NOT NULL))
);
-- The doctor no-show job's candidates.
CREATE INDEX consultations_not_started ON consultations (booking_id)
    WHERE status IN ('scheduled', 'waiting') AND doctor_joined_at IS NULL;

-- Bookings confirmed before consultations existed get theirs now.
INSERT INTO consultations (booking_id, status, ended_at, created_at)
SELECT id,
       CASE status WHEN 'confirmed' THEN 'scheduled' ELSE status END,
       CASE WHEN status = 'confirmed' THEN NULL ELSE coalesce(ended_at, now()) END,
       confirmed_at
  FROM bookings
 WHERE confirmed_at IS NOT NULL
   AND status IN ('confirmed', 'completed', 'no_show', 'terminated', 'cancelled');

CREATE FUNCTION bookings_end_their_consultation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE consultations
       SET status = NEW.status, ended_at = coalesce(NEW.ended_at, now())
     WHERE booking_id = NEW.id AND ended_at IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER bookings_end_consultations
    AFTER UPDATE OF status ON bookings
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          AND NEW.status IN ('completed', 'no_show', 'terminated', 'cancelled'))
    EXECUTE FUNCTION bookings_end_their_consultation();

-- Colleagues the doctor invited (a multi-disciplinary consult). Removing one keeps the row:
-- the record shows who was there, and from when to when they could be.
CREATE TABLE consultation_colleagues (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id uuid NOT NULL REFERENCES consultations (id),
    doctor_id       uuid NOT NULL REFERENCES doctors (id),
    invited_by      uuid NOT NULL REFERENCES users (id),
    invited_at      timestamptz NOT NULL DEFAULT now(),
    removed_at      timestamptz,
    removed_by      uuid REFERENCES users (id),
    CHECK ((removed_at IS NULL) = (removed_by IS NULL))
);
CREATE UNIQUE INDEX consultation_colleagues_one_live
    ON consultation_colleagues (consultation_id, doctor_id) WHERE removed_at IS NULL;
CREATE INDEX consultation_colleagues_by_doctor
    ON consultation_colleagues (doctor_id) WHERE removed_at IS NULL;

-- The doctors' notes, one row per version: a change is a new version, so the record shows
-- who wrote what when. Nobody may rewrite or delete a version.
CREATE TABLE consultation_notes (
    consultation_id uuid NOT NULL REFERENCES consultations (id),
    version         integer NOT NULL CHECK (version >= 1),
    author_id       uuid NOT NULL REFERENCES users (id),
    complaint       text NOT NULL DEFAULT '' CHECK (length(complaint) <= 4000),
    findings        text NOT NULL DEFAULT '' CHECK (length(findings) <= 4000),
    diagnosis       text NOT NULL DEFAULT '' CHECK (length(diagnosis) <= 4000),
    advice          text NOT NULL DEFAULT '' CHECK (length(advice) <= 4000),
    written_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consultation_id, version)
);

-- Files shared in the consultation (PDF, JPEG, PNG: judged by content). The bytes live on
-- disk under <data_dir>/consultations/<consultation id>/<attachment id>.
CREATE TABLE consultation_attachments (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id uuid NOT NULL REFERENCES consultations (id),
    uploaded_by     uuid NOT NULL REFERENCES users (id),
    content_type    text NOT NULL
                    CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes      integer NOT NULL CHECK (size_bytes > 0),
    sha256          bytea NOT NULL CHECK (length(sha256) = 32),
    original_name   text NOT NULL CHECK (length(original_name) <= 255),
    uploaded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consultation_attachments_by_consultation
    ON consultation_attachments (consultation_id, uploaded_at);

-- What participants said, numbered per consultation. Stored before it is relayed through the
-- room, so a participant whose connection dropped fetches it later. ``client_ref`` makes a
-- resent post (its answer was lost) store the message once.
CREATE TABLE consultation_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    consultation_id uuid NOT NULL REFERENCES consultations (id),
    seq             bigint NOT NULL CHECK (seq >= 1),
    author_id       uuid NOT NULL REFERENCES users (id),
    author_role     text NOT NULL CHECK (author_role IN ('patient', 'doctor', 'guest')),
    body            text NOT NULL DEFAULT '' CHECK (length(body) <= 4000),
    attachment_id   uuid UNIQUE REFERENCES consultation_attachments (id),
    client_ref      text CHECK (client_ref ~ '^[A-Za-z0-9_-]{1,64}$'),
    sent_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (consultation_id, seq),
    UNIQUE (consultation_id, author_id, client_ref),
    CHECK (body <> '' OR attachment_id IS NOT NULL)
);

-- The record of a consultation is append-only for the application.
REVOKE UPDATE, DELETE, TRUNCATE ON consultation_notes FROM medmarket_app;
REVOKE UPDATE, DELETE, TRUNCATE ON consultation_messages FROM medmarket_app;
REVOKE UPDATE, DELETE, TRUNCATE ON consultation_attachments FROM medmarket_app;
REVOKE DELETE, TRUNCATE ON consultations FROM medmarket_app;
REVOKE DELETE, TRUNCATE ON consultation_colleagues FROM medmarket_app;

-- Partner hospitals and the doctors who practise online on their behalf. The onboarding
-- rules (applications, credential checks, documents) build on these tables.

CREATE TABLE hospitals (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name           text NOT NULL UNIQUE CHECK (length(name) BETWEEN 2 AND 200),
    name_en        text,
    -- The national grading (医院等级), e.g. 三级甲等.
    level          text NOT NULL CHECK (level IN (
                       '三级甲等', '三级乙等', '三级丙等', '二级甲等', '二级乙等', '二级丙等',
                       '一级')),
    region         text NOT NULL,  -- province / city / county as people write it
    departments    text[] NOT NULL DEFAULT '{}',
    -- Which adapter plugin speaks for this hospital, and its configuration (validated by
    -- the plugin's config_type; secrets inside are never returned by the API).
    adapter_type   text,
    adapter_config jsonb,
    status         text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    created_by     uuid REFERENCES users (id),
    CHECK ((adapter_type IS NULL) = (adapter_config IS NULL))
);

CREATE TABLE hospital_admins (
    hospital_id uuid NOT NULL REFERENCES hospitals (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (hospital_id, user_id)
);
CREATE INDEX hospital_admins_by_user ON hospital_admins (user_id);

CREATE TABLE doctors (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id             uuid NOT NULL UNIQUE REFERENCES users (id),
    hospital_id         uuid NOT NULL REFERENCES hospitals (id),
    full_name           text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 100),
    licence_number      text NOT NULL CHECK (length(licence_number) BETWEEN 5 AND 40),
    title               text NOT NULL CHECK (title IN ('主任医师', '副主任医师', '主治医师', '住院医师')),
    department          text,
    specialties         text[] NOT NULL DEFAULT '{}',
    languages           text[] NOT NULL DEFAULT '{zh}',
    bio                 text NOT NULL DEFAULT '',
    -- What the hospital confirmed; filled by the credential checks.
    practice_started_on date,
    licence_expires_on  date,
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN (
                            'draft', 'submitted', 'verifying', 'needs_review', 'approved',
                            'rejected', 'suspended')),
    time_zone           text NOT NULL DEFAULT 'Asia/Shanghai',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
-- One live application per licence; a rejected one may apply again.
CREATE UNIQUE INDEX doctors_one_live_licence ON doctors (licence_number)
    WHERE status <> 'rejected';
CREATE INDEX doctors_by_hospital ON doctors (hospital_id, status);

CREATE TABLE public.patients (id bigint NOT NULL, ssn text, key_id uuid);

SECURITY LABEL FOR pgsodium ON COLUMN public.patients.ssn IS 'ENCRYPT WITH KEY COLUMN key_id';

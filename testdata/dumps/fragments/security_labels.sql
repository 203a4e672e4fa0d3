SECURITY LABEL FOR pgsodium ON ROLE authenticated IS 'ACCESS pgsodium.key';

SECURITY LABEL FOR anon ON COLUMN public.people.email IS 'MASKED WITH FUNCTION anon.fake_email()';

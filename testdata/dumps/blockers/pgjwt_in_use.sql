CREATE SCHEMA extensions;

CREATE EXTENSION IF NOT EXISTS pgjwt WITH SCHEMA extensions;

CREATE FUNCTION public.make_token(uid uuid) RETURNS text
    LANGUAGE sql STABLE
    AS $$ select extensions.sign(json_build_object('sub', uid), current_setting('app.jwt_secret')) $$;

CREATE TABLE public.profiles (
    id uuid NOT NULL,
    username text,
    email text
);

GRANT SELECT(username) ON TABLE public.profiles TO anon;
GRANT SELECT(username),UPDATE(username) ON TABLE public.profiles TO authenticated;
GRANT SELECT(email) ON TABLE public.profiles TO dashboard_user;
GRANT SELECT(email) ON TABLE public.profiles TO reporting;

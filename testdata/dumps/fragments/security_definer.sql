CREATE FUNCTION public.handle_new_user() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  insert into public.profiles (id, full_name)
  values (new.id, new.raw_user_meta_data ->> 'full_name');
  return new;
end;
$$;

ALTER FUNCTION public.handle_new_user() OWNER TO postgres;

CREATE FUNCTION public.is_admin(uid uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'public', 'extensions'
    AS $$ select exists (select 1 from public.admins a where a.user_id = uid) $$;

ALTER FUNCTION public.is_admin(uid uuid) OWNER TO supabase_admin;

GRANT ALL ON FUNCTION public.is_admin(uid uuid) TO anon;
GRANT ALL ON FUNCTION public.is_admin(uid uuid) TO postgres;
GRANT ALL ON FUNCTION public.is_admin(uid uuid) TO supabase_admin;

CREATE SCHEMA net;

CREATE FUNCTION public.notify_slack() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO ''
    AS $$
begin
  perform net.http_post(url := 'https://hooks.slack.com/x', body := jsonb_build_object('id', new.id));
  return new;
end;
$$;

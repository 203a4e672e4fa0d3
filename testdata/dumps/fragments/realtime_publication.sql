CREATE TABLE public.messages (id bigint NOT NULL, body text);

CREATE PUBLICATION supabase_realtime WITH (publish = 'insert, update, delete, truncate');

ALTER PUBLICATION supabase_realtime OWNER TO postgres;

ALTER PUBLICATION supabase_realtime ADD TABLE ONLY public.messages;

CREATE PUBLICATION supabase_realtime_messages_publication WITH (publish = 'insert, update, delete, truncate');

ALTER PUBLICATION supabase_realtime_messages_publication ADD TABLE ONLY realtime.messages;

CREATE PUBLICATION analytics_feed FOR TABLE ONLY public.messages;

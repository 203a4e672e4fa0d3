CREATE TABLE public.orders (id bigint NOT NULL, total numeric);

CREATE TRIGGER "order-created" AFTER INSERT ON public.orders FOR EACH ROW EXECUTE FUNCTION supabase_functions.http_request('https://example.com/hook', 'POST', '{"Content-type":"application/json"}', '{}', '1000');

CREATE TRIGGER orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION public.touch();

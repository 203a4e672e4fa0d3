CREATE VIEW public.order_lines AS
 SELECT o.id, jt.sku, jt.qty
   FROM public.orders o,
    LATERAL JSON_TABLE(o.doc, '$.lines[*]' COLUMNS (sku text PATH '$.sku', qty integer PATH '$.qty')) jt;

CREATE FUNCTION public.first_tag(tags jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE
    AS $$ select any_value(t) from jsonb_array_elements_text(tags) t $$;

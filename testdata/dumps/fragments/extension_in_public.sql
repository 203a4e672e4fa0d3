CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

COMMENT ON EXTENSION pg_trgm IS 'text similarity measurement and index searching based on trigrams';

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;

CREATE TABLE public.documents (
    id bigint NOT NULL,
    content text,
    embedding public.vector(1536)
);

CREATE INDEX documents_content_trgm ON public.documents USING gin (content public.gin_trgm_ops);

--
-- PostgreSQL database dump
--

\restrict 5ZcBn0dmU2K8pHYsPbuLSDQwVi4xRe7tqf3jhaAXIEMoy9

SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);

CREATE TABLE public.t (id integer NOT NULL);

\unrestrict 5ZcBn0dmU2K8pHYsPbuLSDQwVi4xRe7tqf3jhaAXIEMoy9

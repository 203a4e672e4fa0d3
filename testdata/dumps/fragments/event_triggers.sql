CREATE FUNCTION extensions.set_graphql_placeholder() RETURNS event_trigger
    LANGUAGE plpgsql
    AS $_$
    BEGIN
      create or replace function graphql_public.graphql(
          "operationName" text default null, query text default null, variables jsonb default null, extensions jsonb default null
      ) returns jsonb language plpgsql as $$ begin return null; end; $$;
    END;
$_$;

ALTER FUNCTION extensions.set_graphql_placeholder() OWNER TO supabase_admin;

COMMENT ON FUNCTION extensions.set_graphql_placeholder() IS 'Reintroduces placeholder function for graphql_public.graphql';

CREATE EVENT TRIGGER issue_graphql_placeholder ON sql_drop
         WHEN TAG IN ('DROP EXTENSION')
   EXECUTE FUNCTION extensions.set_graphql_placeholder();

ALTER EVENT TRIGGER issue_graphql_placeholder OWNER TO supabase_admin;

CREATE FUNCTION public.audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'ddl'; END $$;

CREATE EVENT TRIGGER app_audit_ddl ON ddl_command_end EXECUTE FUNCTION public.audit_ddl();

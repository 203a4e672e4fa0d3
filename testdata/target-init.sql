-- An Aurora-like target for the docker-compose rehearsal: the login role has
-- the powers of Aurora's master user (CREATEDB, CREATEROLE, member of
-- rds_superuser) but is not superuser.
CREATE ROLE rds_superuser NOLOGIN;
CREATE ROLE matbakh_admin LOGIN NOSUPERUSER CREATEDB CREATEROLE NOREPLICATION
    PASSWORD 'matbakh-admin-password' IN ROLE rds_superuser;
CREATE DATABASE matbakh_main OWNER matbakh_admin;

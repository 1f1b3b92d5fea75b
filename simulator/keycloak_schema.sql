-- Keycloak's own table definitions (as its Liquibase changelogs create them in PostgreSQL),
-- limited to the tables the NIS2 pipeline reads. Idempotent: safe to run on every load.
CREATE TABLE IF NOT EXISTS public.event_entity (
    id character varying(36) NOT NULL,
    client_id character varying(255),
    details_json character varying(2550),
    error character varying(255),
    ip_address character varying(255),
    realm_id character varying(255),
    session_id character varying(255),
    event_time bigint,
    type character varying(255),
    user_id character varying(255),
    details_json_long_value text,
    CONSTRAINT constraint_4 PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS idx_event_time ON public.event_entity (realm_id, event_time);
CREATE TABLE IF NOT EXISTS public.admin_event_entity (
    id character varying(36) NOT NULL,
    admin_event_time bigint,
    realm_id character varying(255),
    operation_type character varying(255),
    auth_realm_id character varying(255),
    auth_client_id character varying(255),
    auth_user_id character varying(255),
    ip_address character varying(255),
    resource_path character varying(2550),
    representation text,
    error character varying(255),
    resource_type character varying(64),
    details_json text,
    CONSTRAINT constraint_admin_event_entity PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS idx_admin_event_time
    ON public.admin_event_entity (realm_id, admin_event_time);
CREATE TABLE IF NOT EXISTS public.user_entity (
    id character varying(36) NOT NULL,
    email character varying(255),
    email_constraint character varying(255),
    email_verified boolean DEFAULT false NOT NULL,
    enabled boolean DEFAULT false NOT NULL,
    federation_link character varying(255),
    first_name character varying(255),
    last_name character varying(255),
    realm_id character varying(255),
    username character varying(255),
    created_timestamp bigint,
    service_account_client_link character varying(255),
    not_before integer DEFAULT 0 NOT NULL,
    CONSTRAINT constraint_fb PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS public.user_attribute (
    name character varying(255) NOT NULL,
    value character varying(255),
    user_id character varying(36) NOT NULL,
    id character varying(36) DEFAULT 'sybase-needs-something-here'::character varying NOT NULL,
    long_value_hash bytea,
    long_value_hash_lower_case bytea,
    long_value text,
    CONSTRAINT constraint_user_attribute_pk PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS public.keycloak_role (
    id character varying(36) NOT NULL,
    client_realm_constraint character varying(255),
    client_role boolean DEFAULT false NOT NULL,
    description character varying(255),
    name character varying(255),
    realm_id character varying(255),
    client character varying(36),
    realm character varying(36),
    CONSTRAINT constraint_a PRIMARY KEY (id)
);
CREATE TABLE IF NOT EXISTS public.user_role_mapping (
    role_id character varying(255) NOT NULL,
    user_id character varying(36) NOT NULL,
    CONSTRAINT constraint_c PRIMARY KEY (role_id, user_id)
);
-- Credentials (password, otp, webauthn, ...): the pipeline reads only id, type, user_id,
-- created_date and user_label (meltano.yml); salt, secret_data and credential_data stay here.
CREATE TABLE IF NOT EXISTS public.credential (
    id character varying(36) NOT NULL,
    salt bytea,
    type character varying(255),
    user_id character varying(36),
    created_date bigint,
    user_label character varying(255),
    secret_data text,
    credential_data text,
    priority integer,
    CONSTRAINT constraint_f PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS idx_user_credential ON public.credential (user_id);

-- +goose Up
-- Every tenant table carries org_id first in its primary key and in every
-- index, and refers to no table but organizations: the layout a database
-- sharded by organization needs.

CREATE TABLE organizations (
    id                          TEXT PRIMARY KEY,
    name                        TEXT NOT NULL,
    name_key                    TEXT NOT NULL UNIQUE,
    display_name                TEXT NOT NULL DEFAULT '',
    default_role                TEXT NOT NULL,
    base_stack_level            TEXT NOT NULL,
    base_environment_level      TEXT NOT NULL,
    base_insights_level         TEXT NOT NULL,
    members_can_create_stacks   BOOLEAN NOT NULL,
    stack_admins_can_transfer   BOOLEAN NOT NULL,
    stack_admins_can_delete     BOOLEAN NOT NULL,
    members_can_create_insights BOOLEAN NOT NULL,
    members_can_create_teams    BOOLEAN NOT NULL,
    revision                    BIGINT NOT NULL,
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id            TEXT NOT NULL,
    user_name     TEXT NOT NULL,
    user_name_key TEXT NOT NULL,
    external_id   TEXT,
    display_name  TEXT NOT NULL DEFAULT '',
    given_name    TEXT NOT NULL DEFAULT '',
    family_name   TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL,
    role          TEXT NOT NULL,
    scim          JSONB NOT NULL,
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX members_user_name ON members (org_id, user_name_key);
CREATE INDEX members_external_id ON members (org_id, external_id);
CREATE INDEX members_role ON members (org_id, role);
CREATE INDEX members_updated_at ON members (org_id, updated_at);

CREATE TABLE member_emails (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    member_id  TEXT NOT NULL,
    position   INTEGER NOT NULL,
    value      TEXT NOT NULL,
    value_key  TEXT NOT NULL,
    type       TEXT NOT NULL DEFAULT '',
    is_primary BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, member_id, position)
);
CREATE INDEX member_emails_value ON member_emails (org_id, value_key);

CREATE TABLE idp_groups (
    org_id           TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id               TEXT NOT NULL,
    display_name     TEXT NOT NULL,
    display_name_key TEXT NOT NULL,
    external_id      TEXT,
    scim             JSONB NOT NULL,
    version          BIGINT NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX idp_groups_display_name ON idp_groups (org_id, display_name_key);
CREATE INDEX idp_groups_external_id ON idp_groups (org_id, external_id);

CREATE TABLE idp_group_members (
    org_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (org_id, group_id, member_id)
);
CREATE INDEX idp_group_members_member ON idp_group_members (org_id, member_id);

CREATE TABLE teams (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    group_id    TEXT,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX teams_name ON teams (org_id, name_key);
CREATE UNIQUE INDEX teams_group ON teams (org_id, group_id) WHERE group_id IS NOT NULL;

CREATE TABLE team_members (
    org_id    TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id   TEXT NOT NULL,
    member_id TEXT NOT NULL,
    role      TEXT NOT NULL,
    PRIMARY KEY (org_id, team_id, member_id)
);
CREATE INDEX team_members_member ON team_members (org_id, member_id);

CREATE TABLE roles (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    scopes      JSONB NOT NULL,
    rules       JSONB NOT NULL,
    version     BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX roles_name ON roles (org_id, name_key);

CREATE TABLE team_roles (
    org_id  TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id TEXT NOT NULL,
    role_id TEXT NOT NULL,
    PRIMARY KEY (org_id, team_id, role_id)
);
CREATE INDEX team_roles_role ON team_roles (org_id, role_id);

CREATE TABLE grants (
    org_id         TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    principal_type TEXT NOT NULL,
    principal_id   TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    level          TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, principal_type, principal_id, entity_type, entity_id)
);
CREATE INDEX grants_entity ON grants (org_id, entity_type, entity_id);

CREATE TABLE tokens (
    org_id       TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id           TEXT NOT NULL,
    kind         TEXT NOT NULL,
    origin       TEXT NOT NULL,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    hash         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    role         TEXT,
    team_id      TEXT,
    member_id    TEXT,
    issuer_id    TEXT,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    deleted_at   TIMESTAMPTZ,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX tokens_hash ON tokens (org_id, hash);
-- Names stay taken after deletion: the indexes ignore deleted_at.
CREATE UNIQUE INDEX tokens_shared_name ON tokens (org_id, name_key)
    WHERE kind IN ('organization', 'team') AND origin = 'manual';
CREATE UNIQUE INDEX tokens_scim_name ON tokens (org_id, name_key) WHERE kind = 'scim';
CREATE UNIQUE INDEX tokens_personal_name ON tokens (org_id, member_id, name_key)
    WHERE kind = 'personal' AND origin = 'manual';
CREATE INDEX tokens_team ON tokens (org_id, team_id);
CREATE INDEX tokens_member ON tokens (org_id, member_id);

CREATE TABLE audit_events (
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id          TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    actor_type  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    target_name TEXT NOT NULL,
    details     JSONB NOT NULL,
    source_ip   TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    revision    BIGINT,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX audit_events_time ON audit_events (org_id, occurred_at);
CREATE INDEX audit_events_actor ON audit_events (org_id, actor_id, occurred_at);
CREATE INDEX audit_events_action ON audit_events (org_id, action, occurred_at);

CREATE TABLE change_log (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    revision   BIGINT NOT NULL,
    changed_at TIMESTAMPTZ NOT NULL,
    changes    JSONB NOT NULL,
    PRIMARY KEY (org_id, revision)
);

-- Audit events are append-only: no statement may rewrite one.
-- +goose StatementBegin
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

-- +goose Down
DROP TABLE change_log;
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
DROP TABLE tokens;
DROP TABLE grants;
DROP TABLE team_roles;
DROP TABLE roles;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE idp_group_members;
DROP TABLE idp_groups;
DROP TABLE member_emails;
DROP TABLE members;
DROP TABLE organizations;

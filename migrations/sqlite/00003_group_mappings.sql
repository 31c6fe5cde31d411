-- +goose Up
-- An organization's group mapping rules (directory/mapping.go), in the
-- order they are tried: the first whose pattern matches a group's name
-- decides what the group does.
CREATE TABLE group_mappings (
    org_id     TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id         TEXT NOT NULL,
    position   INTEGER NOT NULL,
    pattern    TEXT NOT NULL,
    action     TEXT NOT NULL,
    role       TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX group_mappings_position ON group_mappings (org_id, position);

-- What the rules gave, so that they take back only that: a team role
-- assignment made by a team_role rule, and the organization role an
-- org_role rule gave a member.
ALTER TABLE team_roles ADD COLUMN by_mapping BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE members ADD COLUMN mapped_role TEXT;
CREATE INDEX members_mapped_role ON members (org_id, mapped_role) WHERE mapped_role IS NOT NULL;

-- +goose Down
DROP INDEX members_mapped_role;
ALTER TABLE members DROP COLUMN mapped_role;
ALTER TABLE team_roles DROP COLUMN by_mapping;
DROP TABLE group_mappings;

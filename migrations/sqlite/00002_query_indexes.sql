-- +goose Up
-- SCIM listings page in creation order by default (directory.QueryMembers,
-- QueryGroups): these indexes serve that order and its id tie-break without
-- sorting the organization's rows.
CREATE INDEX members_created ON members (org_id, created_at, id);
CREATE INDEX idp_groups_created ON idp_groups (org_id, created_at, id);

-- +goose Down
DROP INDEX idp_groups_created;
DROP INDEX members_created;

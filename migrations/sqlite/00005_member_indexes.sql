-- +goose Up
-- A member's groups and teams are looked up by member (a sign-in's group
-- sync, deactivation, the model's memberships). The primary keys lead with
-- the group or team, and an index on (org_id, member_id) alone lost to them:
-- SQLite's planner, without statistics, preferred the covering primary key
-- and scanned every membership of the organization. These indexes cover the
-- lookup, so both databases read just the member's rows.
DROP INDEX idp_group_members_member;
CREATE INDEX idp_group_members_member ON idp_group_members (org_id, member_id, group_id);
DROP INDEX team_members_member;
CREATE INDEX team_members_member ON team_members (org_id, member_id, team_id, role);

-- +goose Down
DROP INDEX team_members_member;
CREATE INDEX team_members_member ON team_members (org_id, member_id);
DROP INDEX idp_group_members_member;
CREATE INDEX idp_group_members_member ON idp_group_members (org_id, member_id);

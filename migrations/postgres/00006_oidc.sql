-- +goose Up
-- OIDC (directory/oidc.go, directory/oidcconn.go).
--
-- Issuers whose ID tokens workloads trade for Gatehouse tokens, each with
-- its authorization policy: a JSON document the oidc package validates and
-- the directory keeps as text. An issuer's url is the iss its tokens carry;
-- the exchange looks it up among the organization's issuers, so it is
-- unique per organization only. static_jwks is '' when keys are fetched.
CREATE TABLE oidc_issuers (
    org_id                 TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    id                     TEXT NOT NULL,
    name                   TEXT NOT NULL,
    name_key               TEXT NOT NULL,
    url                    TEXT NOT NULL,
    jwks_url               TEXT NOT NULL DEFAULT '',
    static_jwks            TEXT NOT NULL DEFAULT '',
    thumbprints            TEXT NOT NULL DEFAULT '[]',
    max_expiration_seconds BIGINT NOT NULL,
    policy                 TEXT NOT NULL,
    policy_version         BIGINT NOT NULL,
    version                BIGINT NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    updated_at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX oidc_issuers_name ON oidc_issuers (org_id, name_key);
CREATE UNIQUE INDEX oidc_issuers_url ON oidc_issuers (org_id, url);

-- Deleting an issuer revokes the tokens minted from its tokens.
CREATE INDEX tokens_issuer ON tokens (org_id, issuer_id) WHERE issuer_id IS NOT NULL;

-- An organization's OIDC sign-in connection: its settings as JSON and the
-- client secret sealed with the server's secret key ('' when none).
CREATE TABLE oidc_connections (
    org_id        TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    settings      TEXT NOT NULL,
    client_secret TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id)
);

-- +goose Down
DROP TABLE oidc_connections;
DROP INDEX tokens_issuer;
DROP TABLE oidc_issuers;

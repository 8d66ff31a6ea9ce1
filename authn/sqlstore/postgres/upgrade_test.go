package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
)

// TestPostgresDevicesVersionUpgrade: migration 0007 on a database with
// devices made before it starts each of their users at devices version
// 1 and users without a device at 0, and the next change draws a
// greater value.
func TestPostgresDevicesVersionUpgrade(t *testing.T) {
	dsn := postgresDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	require.NoError(t, rawExec(t, dsn, schema, `CREATE SCHEMA IF NOT EXISTS `+pgx.Identifier{schema}.Sanitize()))
	require.NoError(t, rawExec(t, dsn, schema, `CREATE TABLE authn_schema_version (
		version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)`))
	files, err := fs.Glob(migrations(), "*.sql")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 7)
	for i, f := range files[:6] { // the schema before the devices version
		body, err := fs.ReadFile(migrations(), f)
		require.NoError(t, err)
		require.NoError(t, rawExec(t, dsn, schema, string(body)), f)
		require.NoError(t, rawExec(t, dsn, schema, fmt.Sprintf(`INSERT INTO authn_schema_version VALUES (%d, 0)`, i+1)))
	}
	require.NoError(t, rawExec(t, dsn, schema, `INSERT INTO authn_devices (id, user_id, name, platform, account_name,
		suite, install_id, state, secret, created_at) VALUES ('dev-1', 'alice', 'phone', 'ios', 'alice', 's', 'i', 'active', '\x00', 0)`))

	s := openPostgres(t, dsn, schema)
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, len(files), v)
	sqltest.DevicesVersionUpgraded(t, s)
}

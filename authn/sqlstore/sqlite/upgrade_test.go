package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/keyline/keyline/authn/sqlstore/internal/sqltest"
)

// TestDevicesVersionUpgrade: migration 0004 on a file with devices made
// before it starts each of their users at devices version 1 and users
// without a device at 0, and the next change draws a greater value.
func TestDevicesVersionUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyline.db")
	db, err := sql.Open("sqlite", path)
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `CREATE TABLE authn_schema_version (version BIGINT NOT NULL PRIMARY KEY, applied_at BIGINT NOT NULL)`)
	require.NoError(t, err)
	files, err := fs.Glob(migrations(), "*.sql")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 4)
	for i, f := range files[:3] { // the schema before the devices version
		body, err := fs.ReadFile(migrations(), f)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, string(body))
		require.NoError(t, err, f)
		_, err = db.ExecContext(ctx, `INSERT INTO authn_schema_version VALUES ($1, 0)`, i+1)
		require.NoError(t, err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO authn_devices (id, user_id, name, platform, account_name, suite, install_id,
		state, secret, created_at) VALUES ('dev-1', 'alice', 'phone', 'ios', 'alice', 's', 'i', 'active', x'00', 0)`)
	require.NoError(t, err)
	require.NoError(t, db.Close())

	s, err := Open(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	v, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	require.Equal(t, len(files), v)
	sqltest.DevicesVersionUpgraded(t, s)
}

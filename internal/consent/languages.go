package consent

import (
	"context"
	"fmt"
)

// Languages returns the language each of the parents last answered a
// form in ("en", "pl", "ar"), for what the school sends them on paper;
// parents who never answered one are left out.
func (s *Store) Languages(ctx context.Context, schoolID int64, parentIDs []int64) (map[int64]string, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT DISTINCT ON (person_id) person_id, language FROM signatures
		WHERE school_id = $1 AND person_id = ANY ($2) ORDER BY person_id, signed_at DESC, id DESC`, schoolID, parentIDs)
	if err != nil {
		return nil, fmt.Errorf("consent: languages: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var lang string
		if err := rows.Scan(&id, &lang); err != nil {
			return nil, fmt.Errorf("consent: languages: %w", err)
		}
		out[id] = lang
	}
	return out, rows.Err()
}

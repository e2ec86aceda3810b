package admin

import (
	"context"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/storage"
)

func (s *Service) viewKeys(keys []storage.SigningKey) []adminapi.KeyView {
	now := s.now()
	out := make([]adminapi.KeyView, len(keys))
	for i, k := range keys {
		status := "active"
		switch {
		case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
			status = "expired"
		case !k.RetiredAt.IsZero() && !now.Before(k.RetiredAt):
			status = "retired"
		case now.Before(k.ActiveAt):
			status = "pending" // published, signing from ActiveAt
		}
		out[i] = adminapi.KeyView{ID: k.ID, Algorithm: k.Algorithm, Status: status,
			CreatedAt: k.CreatedAt, ActiveAt: k.ActiveAt, RetiredAt: k.RetiredAt, ExpiresAt: k.ExpiresAt}
	}
	return out
}

func (s *Service) listKeys(ctx context.Context, _ adminapi.Empty) ([]adminapi.KeyView, error) {
	keys, err := s.store.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	return s.viewKeys(keys), nil
}

// rotateKeys rotates through Options.RotateKeys: on the server, the running
// provider's, which publishes the new keys at once and signs with them
// two minutes later, once every replica and every cached key set holds
// them (provider/keyrotation.go).
func (s *Service) rotateKeys(ctx context.Context, _ adminapi.Empty) ([]adminapi.KeyView, error) {
	keys, err := s.rotate(ctx)
	if err != nil {
		return nil, err
	}
	return s.viewKeys(keys), nil
}

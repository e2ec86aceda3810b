package admin

import (
	"context"

	"tsubasa/provider/admin/adminapi"
	"tsubasa/provider/member"
	"tsubasa/storage"
)

// findMembers finds the members with an email address or a mobile
// number, normalised as the member package normalises what it stores
// (the address's domain lower-cased, the number in E.164), and matched
// exactly: never a prefix nor a pattern, so a caller learns nothing of a
// contact it cannot name. The transport audits the call; when one member
// matches, the call's event names them.
func (s *Service) findMembers(ctx context.Context, in adminapi.MemberFindInput) (adminapi.MembersFound, error) {
	var (
		ms  []storage.Member
		err error
	)
	const limit = adminapi.MaxMembersFound
	switch {
	case (in.Email == "") == (in.Phone == ""):
		return adminapi.MembersFound{}, adminapi.Invalid("", "give either email or phone")
	case in.Email != "":
		email, perr := member.ParseEmail(in.Email)
		if perr != nil {
			return adminapi.MembersFound{}, adminapi.Invalid("email", "%q is not an email address", in.Email)
		}
		ms, err = s.store.MembersByEmail(ctx, email, limit+1)
	default:
		country := in.Country
		if country == "" {
			country = "JP"
		}
		phone, perr := member.ParsePhone(in.Phone, country)
		if perr != nil {
			return adminapi.MembersFound{}, adminapi.Invalid("phone", "%q is not a phone number (E.164, or national for country %s)", in.Phone, country)
		}
		ms, err = s.store.MembersByPhone(ctx, phone, limit+1)
	}
	if err != nil {
		return adminapi.MembersFound{}, err
	}
	out := adminapi.MembersFound{Members: []adminapi.MemberView{}}
	if len(ms) > limit {
		ms, out.Truncated = ms[:limit], true
	}
	for _, m := range ms {
		out.Members = append(out.Members, s.viewMember(m))
	}
	if len(ms) == 1 {
		concerns(ctx, ms[0].ID)
	}
	return out, nil
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/lib/pq"
)

// TenantSkill is a catalogue skill as one organization sees it: whether
// it is enabled there, and by which package.
type TenantSkill struct {
	Slug         string         `db:"slug"`
	Name         string         `db:"name"`
	Description  string         `db:"description"`
	Category     string         `db:"category"`
	TierRequired string         `db:"tier_required"`
	Tools        pq.StringArray `db:"tools"`
	IsOfficial   bool           `db:"is_official"`
	EnabledBy    sql.NullString `db:"enabled_by"` // the package that enabled it
	EnabledAt    sql.NullTime   `db:"enabled_at"`
}

// Enabled reports whether the organization has the skill.
func (s TenantSkill) Enabled() bool { return s.EnabledAt.Valid }

// TenantSkills lists the global skills catalogue, enabled ones first,
// with the tenant's state of each. The catalogue is small (tens of rows),
// so it is not paginated.
func (s *Store) TenantSkills(ctx context.Context, t Tenant) ([]TenantSkill, error) {
	var out []TenantSkill
	err := s.DB.SelectContext(ctx, &out, t.SQL(`
		SELECT sk.slug, sk.name, sk.description, sk.category, sk.tier_required, sk.tools, sk.is_official,
		       ts.package_slug AS enabled_by, ts.enabled_at
		  FROM skills sk LEFT JOIN {tenant}.tenant_skills ts ON ts.skill_slug = sk.slug
		 ORDER BY ts.enabled_at IS NULL, sk.name`))
	if err != nil {
		return nil, fmt.Errorf("list skills: %w", err)
	}
	return out, nil
}

// SkillPrompts returns the system prompt additions of the skills enabled
// for the organization, for every run of its agents.
func (s *Store) SkillPrompts(ctx context.Context, t Tenant) ([]string, error) {
	var out []string
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT sk.system_prompt_enhancement FROM {tenant}.tenant_skills ts
		JOIN public.skills sk ON sk.slug = ts.skill_slug
		WHERE coalesce(sk.system_prompt_enhancement, '') <> '' ORDER BY sk.slug`)); err != nil {
		return nil, fmt.Errorf("read skill prompts: %w", err)
	}
	return out, nil
}

// EnabledSkillTools returns the tools of the skills enabled for the
// organization, each once.
func (s *Store) EnabledSkillTools(ctx context.Context, t Tenant) ([]string, error) {
	var out []string
	if err := s.DB.SelectContext(ctx, &out, t.SQL(`SELECT DISTINCT unnest(sk.tools) FROM {tenant}.tenant_skills ts
		JOIN public.skills sk ON sk.slug = ts.skill_slug ORDER BY 1`)); err != nil {
		return nil, fmt.Errorf("read skill tools: %w", err)
	}
	return out, nil
}

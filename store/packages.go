package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Package is a marketplace package from the global catalogue.
type Package struct {
	ID              int64           `db:"id"`
	Name            string          `db:"name"`
	Slug            string          `db:"slug"`
	Version         string          `db:"version"`
	Description     string          `db:"description"`
	LongDescription string          `db:"long_description"`
	Category        string          `db:"category"`
	Author          string          `db:"author"`
	License         string          `db:"license"`
	PricingModel    string          `db:"pricing_model"`
	PricingConfig   json.RawMessage `db:"pricing_config"`
	MinTier         string          `db:"min_tier"`
	IncludesJSON    json.RawMessage `db:"includes"`
	InstallCount    int64           `db:"install_count"`
	RatingAvg       float64         `db:"rating_avg"`
	RatingCount     int             `db:"rating_count"`
	IsVerified      bool            `db:"is_verified"`
	IsFeatured      bool            `db:"is_featured"`
	IsPublished     bool            `db:"is_published"`
	CreatedAt       time.Time       `db:"created_at"`
	UpdatedAt       time.Time       `db:"updated_at"`
}

// PackageIncludes is what installing a package brings into a workspace.
type PackageIncludes struct {
	Agents    []PackageAgent    `json:"agents"`
	Skills    []string          `json:"skills"`
	Workflows []PackageWorkflow `json:"workflows"`
	Tools     []string          `json:"tools"`
}

// PackageAgent is an agent a package creates when installed.
type PackageAgent struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	SystemPrompt string `json:"system_prompt"`
}

// PackageWorkflow is a workflow a package ships: installing creates it.
type PackageWorkflow struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Definition is the workflow's JSON definition (jobs/workflow); its
	// agent handles are those of the package's agents' names.
	Definition json.RawMessage `json:"definition,omitempty"`
}

// Includes decodes the package's includes column. A malformed value reads
// as empty rather than failing a page: the catalogue is ours, and the
// install executor checks it again (see decodeIncludes).
func (p Package) Includes() PackageIncludes {
	inc, _ := decodeIncludes(p.IncludesJSON)
	return inc
}

func decodeIncludes(raw json.RawMessage) (PackageIncludes, error) {
	var inc PackageIncludes
	if len(raw) == 0 {
		return inc, nil
	}
	if err := json.Unmarshal(raw, &inc); err != nil {
		return inc, fmt.Errorf("decode package includes: %w", err)
	}
	return inc, nil
}

// PriceLabel describes the pricing for people: "Free", "$149/mo", "15 % revenue share".
func (p Package) PriceLabel() string {
	var cfg map[string]float64
	_ = json.Unmarshal(p.PricingConfig, &cfg)
	switch p.PricingModel {
	case "free":
		return "Free"
	case "freemium":
		return "Freemium"
	case "paid":
		if v, ok := cfg["price_monthly_usd"]; ok {
			return fmt.Sprintf("$%g/mo", v)
		}
		return "Paid"
	case "revenue_share":
		if v, ok := cfg["revenue_share_percent"]; ok {
			return fmt.Sprintf("%g %% revenue share", v)
		}
		return "Revenue share"
	}
	return p.PricingModel
}

// The catalogue's closed vocabularies, in display order (SPEC §4). The
// marketplace filters offer exactly these.
var (
	PackageCategories = []string{"operations", "customer_service", "sales", "data", "development", "marketing", "finance", "hr"}
	PricingModels     = []string{"free", "freemium", "paid", "revenue_share"}
	Tiers             = []string{"free", "pro", "enterprise"}
)

// TierRank orders tiers: free < pro < enterprise. An unknown tier ranks
// below free, so it never unlocks anything.
func TierRank(tier string) int {
	for i, t := range Tiers {
		if t == tier {
			return i
		}
	}
	return -1
}

// TierAllows reports whether an organization on tier may install a package
// needing minTier.
func TierAllows(tier, minTier string) bool {
	return TierRank(tier) >= 0 && TierRank(tier) >= TierRank(minTier)
}

// AgentLimit is how many agents an organization on tier may have (SPEC §4).
func AgentLimit(tier string) int {
	switch tier {
	case "pro", "enterprise":
		return 999
	default:
		return 3
	}
}

func oneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// PackageFilter selects published packages. Empty fields do not filter;
// values outside the vocabularies are ignored (a hand-edited URL shows
// everything rather than an error page).
type PackageFilter struct {
	Q        string // matched against name and description, case-insensitively
	Category string
	Pricing  string
	Tier     string // the package's minimum tier
}

// Normalize trims the query and drops filter values the catalogue does not know.
func (f *PackageFilter) Normalize() {
	f.Q = strings.TrimSpace(f.Q)
	if len(f.Q) > 200 {
		f.Q = f.Q[:200]
	}
	if !oneOf(f.Category, PackageCategories) {
		f.Category = ""
	}
	if !oneOf(f.Pricing, PricingModels) {
		f.Pricing = ""
	}
	if !oneOf(f.Tier, Tiers) {
		f.Tier = ""
	}
}

const packageColumns = `id, name, slug, version, description, long_description, category, author, license,
	pricing_model, pricing_config, min_tier, includes, install_count, rating_avg::float8 AS rating_avg, rating_count,
	is_verified, is_featured, is_published, created_at, updated_at`

// ListPackages returns the published packages matching f: featured first,
// then the most installed.
func (s *Store) ListPackages(ctx context.Context, f PackageFilter) ([]Package, error) {
	f.Normalize()
	var pkgs []Package
	err := s.DB.SelectContext(ctx, &pkgs, `SELECT `+packageColumns+` FROM public.packages
		WHERE is_published
		  AND ($1 = '' OR name ILIKE '%' || $1 || '%' OR description ILIKE '%' || $1 || '%')
		  AND ($2 = '' OR category = $2)
		  AND ($3 = '' OR pricing_model = $3)
		  AND ($4 = '' OR min_tier = $4)
		ORDER BY is_featured DESC, install_count DESC, name, id`,
		likeEscape(f.Q), f.Category, f.Pricing, f.Tier)
	if err != nil {
		return nil, fmt.Errorf("list packages: %w", err)
	}
	return pkgs, nil
}

// FeaturedPackages returns the published featured packages.
func (s *Store) FeaturedPackages(ctx context.Context) ([]Package, error) {
	var pkgs []Package
	err := s.DB.SelectContext(ctx, &pkgs, `SELECT `+packageColumns+` FROM public.packages
		WHERE is_published AND is_featured ORDER BY install_count DESC, name, id`)
	if err != nil {
		return nil, fmt.Errorf("list featured packages: %w", err)
	}
	return pkgs, nil
}

// PackageBySlug returns a package, published or not; pages showing it to
// members check IsPublished themselves.
func (s *Store) PackageBySlug(ctx context.Context, slug string) (Package, error) {
	var p Package
	err := s.DB.GetContext(ctx, &p, `SELECT `+packageColumns+` FROM public.packages WHERE slug = $1`, slug)
	if errors.Is(err, sql.ErrNoRows) {
		return p, ErrNotFound
	} else if err != nil {
		return p, fmt.Errorf("package %q: %w", slug, err)
	}
	return p, nil
}

// PublishedPackage returns a published package; unpublished ones are not
// found, as members cannot see them.
func (s *Store) PublishedPackage(ctx context.Context, slug string) (Package, error) {
	p, err := s.PackageBySlug(ctx, slug)
	if err == nil && !p.IsPublished {
		return Package{}, ErrNotFound
	}
	return p, err
}

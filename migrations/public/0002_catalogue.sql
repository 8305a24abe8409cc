-- The global catalogue: skills, marketplace packages and their reviews.

CREATE TABLE skills (
    id                         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                       text NOT NULL,
    slug                       text NOT NULL UNIQUE,
    description                text NOT NULL DEFAULT '',
    category                   text NOT NULL CHECK (category IN ('research', 'coding', 'data_analysis', 'communication', 'operations')),
    tier_required              text NOT NULL DEFAULT 'free' CHECK (tier_required IN ('free', 'pro', 'enterprise')),
    system_prompt_enhancement  text NOT NULL DEFAULT '',
    tools                      text[] NOT NULL DEFAULT '{}',
    is_official                boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE packages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL,
    slug             text NOT NULL UNIQUE,
    version          text NOT NULL,
    description      text NOT NULL DEFAULT '',
    long_description text NOT NULL DEFAULT '',
    category         text NOT NULL CHECK (category IN ('operations', 'customer_service', 'sales', 'data', 'development', 'marketing', 'finance', 'hr')),
    author           text NOT NULL DEFAULT '',
    license          text NOT NULL DEFAULT '',
    pricing_model    text NOT NULL CHECK (pricing_model IN ('free', 'freemium', 'paid', 'revenue_share')),
    pricing_config   jsonb NOT NULL DEFAULT '{}',
    min_tier         text NOT NULL DEFAULT 'free' CHECK (min_tier IN ('free', 'pro', 'enterprise')),
    includes         jsonb NOT NULL DEFAULT '{"agents":[],"skills":[],"workflows":[],"tools":[]}',
    install_count    bigint NOT NULL DEFAULT 0,
    rating_avg       numeric(3,2) NOT NULL DEFAULT 0,
    rating_count     integer NOT NULL DEFAULT 0,
    is_verified      boolean NOT NULL DEFAULT false,
    is_featured      boolean NOT NULL DEFAULT false,
    is_published     boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX packages_published ON packages (is_published, is_featured DESC, install_count DESC);

CREATE TABLE package_reviews (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    package_id bigint NOT NULL REFERENCES packages (id) ON DELETE CASCADE,
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    rating     smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title      text NOT NULL DEFAULT '' CHECK (length(title) <= 120),
    content    text NOT NULL DEFAULT '' CHECK (length(content) <= 5000),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (package_id, user_id)
);

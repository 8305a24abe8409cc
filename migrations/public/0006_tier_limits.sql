-- Limits follow the tier (SPEC §4, §12, §13): generated, so a tier change
-- moves them with it and nothing can set them apart.
ALTER TABLE organizations ADD COLUMN monthly_token_limit bigint GENERATED ALWAYS AS (
    CASE tier WHEN 'free' THEN 100000 WHEN 'pro' THEN 1000000 ELSE 999999999 END) STORED;
ALTER TABLE organizations ADD COLUMN workflow_limit integer GENERATED ALWAYS AS (
    CASE tier WHEN 'free' THEN 0 WHEN 'pro' THEN 10 ELSE 999 END) STORED;

-- A score version's numbers move out of the factors JSON: contributions holds [baseline, each
-- factor's contribution] as binary doubles, and factors lists each factor's feature and label.
-- Formatting every number as JSON text was the largest cost of encoding a version. Versions
-- stored before keep contributions NULL and their whole document in factors (still read).
ALTER TABLE "score_versions" ADD COLUMN "contributions" double precision[];

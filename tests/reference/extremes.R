## Reference GEV and GPD maximum likelihood fits on real data, for tests/families/test_extremes.py.
## Run from the repository root:  Rscript tests/reference/extremes.R > tests/reference/extremes.out
##
## evd is not installed here (no network for CRAN), so the log-densities are written out in
## evd's parametrization, dgev(x, loc, scale, shape) and dgpd(x, loc, scale, shape):
##   GEV: -log(scale) - (1 + 1/shape) log(1 + shape z) - (1 + shape z)^(-1/shape),
##        z = (x - loc)/scale, -Inf where 1 + shape z <= 0 (shape = 0: -log(scale) - z - exp(-z));
##   GPD: -log(scale) - (1 + 1/shape) log(1 + shape y/scale), y = x - loc > 0,
##        -Inf where 1 + shape y/scale <= 0 (shape = 0: -log(scale) - y/scale).
## Each fit: optim() Nelder-Mead from the Gumbel / exponential moment start, then BFGS with
## reltol = 1e-15, then Newton steps with numDeriv::grad and numDeriv::hessian until the step
## is negligible (the gradient printed shows the result is the maximum to rounding); standard
## errors from numDeriv::hessian of the log-likelihood. Numbers printed with sprintf("%.15g").
suppressPackageStartupMessages(library(numDeriv))
options(warn = -1)

g15 <- function(v) paste(sprintf("%.15g", v), collapse = "  ")
line <- function(label, v) cat(sprintf("   %-26s: %s\n", label, g15(v)))

gev_ll <- function(p, x) {  # p = (loc, scale, shape)
  if (p[2] <= 0) return(-Inf)
  z <- (x - p[1]) / p[2]
  if (p[3] == 0) return(sum(-log(p[2]) - z - exp(-z)))
  t <- 1 + p[3] * z
  if (any(t <= 0)) return(-Inf)
  sum(-log(p[2]) - (1 + 1 / p[3]) * log(t) - t^(-1 / p[3]))
}

gpd_ll <- function(p, x, loc) {  # p = (scale, shape)
  if (p[1] <= 0) return(-Inf)
  y <- (x - loc) / p[1]
  if (p[2] == 0) return(sum(-log(p[1]) - y))
  t <- 1 + p[2] * y
  if (any(t <= 0) || any(y <= 0)) return(-Inf)
  sum(-log(p[1]) - (1 + 1 / p[2]) * log(t))
}

fit_ml <- function(ll, start, names) {
  nll <- function(p) { v <- -ll(p); if (is.finite(v)) v else 1e300 }
  o <- optim(start, nll, method = "Nelder-Mead", control = list(maxit = 20000, reltol = 1e-15))
  o <- optim(o$par, nll, method = "BFGS", control = list(maxit = 20000, reltol = 1e-15))
  p <- o$par
  for (i in 1:50) {
    step <- solve(numDeriv::hessian(ll, p), numDeriv::grad(ll, p))
    p <- p - step
    if (max(abs(step / p)) < 1e-13) break
  }
  H <- numDeriv::hessian(ll, p)
  cat("   names                     : ", paste(names, collapse = "  "), "\n", sep = "")
  line("estimate", p)
  line("SE (numDeriv::hessian)", sqrt(diag(solve(-H))))
  line("loglik", ll(p))
  line("gradient", numDeriv::grad(ll, p))
  line("optim convergence", o$convergence)
}

gev_start <- function(x) {  # Gumbel method of moments, shape 0.1 (as ismev's gev.fit)
  s <- sqrt(6 * var(x)) / pi
  c(mean(x) - 0.57722 * s, s, 0.1)
}

cat("R.version.string: ", R.version.string, " | numDeriv ",
    as.character(packageVersion("numDeriv")), "\n", sep = "")
D <- "../shared/data/"

## DAX: daily log returns in percent, cut into 92 blocks of 20 trading days (the first 1840)
dax <- read.csv(paste0(D, "eustockmarkets.csv"))$DAX
r <- 100 * diff(log(dax))
nb <- length(r) %/% 20
losses <- apply(matrix(-r[1:(20 * nb)], nrow = 20), 2, max)
gains <- apply(matrix(r[1:(20 * nb)], nrow = 20), 2, max)

cat("\n== GEV: DAX block maxima of daily losses (-100*diff(log(DAX)), blocks of 20), n =",
    length(losses), "\n")
fit_ml(function(p) gev_ll(p, losses), gev_start(losses), c("loc", "scale", "shape"))

cat("\n== GEV: DAX block maxima of daily gains (100*diff(log(DAX)), blocks of 20), n =",
    length(gains), "\n")
fit_ml(function(p) gev_ll(p, gains), gev_start(gains), c("loc", "scale", "shape"))

wind <- read.csv(paste0(D, "airquality.csv"))$Wind
cat("\n== GEV: airquality Wind, n =", length(wind), "\n")
fit_ml(function(p) gev_ll(p, wind), gev_start(wind), c("loc", "scale", "shape"))

## Danish fire losses over 10 million DKK (McNeil 1997): GPD with loc = 10
loss <- read.csv(paste0(D, "danishuni.csv"))$Loss
y <- loss[loss > 10]
cat("\n== GPD: danishuni Loss > 10, loc = 10, n =", length(y), "\n")
fit_ml(function(p) gpd_ll(p, y, 10), c(mean(y - 10), 0.1), c("scale", "shape"))

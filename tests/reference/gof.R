## Reference goodness-of-fit statistics for tests/test_gof.py (mlekit's fit.gof()).
## Run from the repository root:
##   Rscript tests/reference/gof.R > tests/reference/gof.out
## (R 4.2.2, fitdistrplus 1.1.8.)
##
## Data: fitdistrplus::groundbeef$serving, read from ../shared/data/groundbeef.csv (n = 254).
## For each of normal, lognormal, gamma and Weibull the script prints
##   * R's own fit, fitdist(x, dist, method = "mle"), and gofstat(fit)'s KS, CvM and AD;
##   * the exact MLE (closed form, or uniroot on the profile score to tol 1e-15) and the same
##     statistics at it, computed by the very function gofstat calls,
##       fitdistrplus:::compute.gofstat.KSCvMAD(sort(x), n, dist, pdist, estimate, NULL, "mle").
## optim (R's fit) stops ~1e-5 (relative) short of the maximum, which moves the statistics in
## their 5th-6th digit; mlekit's Newton reaches the exact MLE, so the tests compare with the
## statistics at the exact MLE (and, loosely, with gofstat's at R's optim estimate).
## All numbers are printed with sprintf("%.15g").
suppressPackageStartupMessages(library(fitdistrplus))
options(warn = -1)  # optim's "NaNs produced" while it probes outside the space; harmless

x <- read.csv("/work/shared/data/groundbeef.csv")$serving
n <- length(x)
g15 <- function(v) paste(sprintf("%.15g", v), collapse = "  ")
line <- function(label, v) cat(sprintf("   %-24s: %s\n", label, g15(v)))

exact_mle <- function(dist) {
  if (dist == "norm") {
    m <- mean(x)
    return(c(mean = m, sd = sqrt(mean((x - m)^2))))
  }
  if (dist == "lnorm") {
    m <- mean(log(x))
    return(c(meanlog = m, sdlog = sqrt(mean((log(x) - m)^2))))
  }
  if (dist == "gamma") {  # profile score in the shape: log(a) - digamma(a) = log(mean) - mean(log)
    s <- log(mean(x)) - mean(log(x))
    a <- uniroot(function(a) log(a) - digamma(a) - s, c(0.01, 1000), tol = 1e-15)$root
    return(c(shape = a, rate = a / mean(x)))
  }
  if (dist == "weibull") {  # profile score: sum(x^k log x)/sum(x^k) - 1/k - mean(log x) = 0
    lx <- log(x)
    k <- uniroot(function(k) sum(x^k * lx) / sum(x^k) - 1 / k - mean(lx), c(0.1, 50),
                 tol = 1e-15)$root
    return(c(shape = k, scale = mean(x^k)^(1 / k)))
  }
}

for (dist in c("norm", "lnorm", "gamma", "weibull")) {
  cat("\n==================== ", dist, " ====================\n", sep = "")
  f <- fitdist(x, dist, method = "mle")
  g <- gofstat(f)
  cat(sprintf("-- R: gofstat(fitdist(x, \"%s\", method = \"mle\"))\n", dist))
  cat("   names                   : ", paste(names(f$estimate), collapse = "  "), "\n", sep = "")
  line("estimate (optim)", f$estimate)
  line("loglik", f$loglik)
  line("ks", g$ks)
  line("cvm", g$cvm)
  line("ad", g$ad)
  est <- exact_mle(dist)
  s <- fitdistrplus:::compute.gofstat.KSCvMAD(sort(x), n, dist, paste0("p", dist), est, NULL,
                                              "mle")
  cat(sprintf("-- exact MLE: compute.gofstat.KSCvMAD(sort(x), n, \"%s\", \"p%s\", est, NULL, \"mle\")\n",
              dist, dist))
  line("estimate (exact)", est)
  line("loglik", sum(do.call(paste0("d", dist), c(list(x), as.list(est), log = TRUE))))
  line("ks", s$ks)
  line("cvm", s$cvm)
  line("ad", s$ad)
}

## ---- discrete: Pearson's chi-square on fitdistrplus::toxocara$number (n = 53) ----------------
## The cells are mlekit's (adjacent counts merged until each expects >= 5), given to R as
## chisqbreaks; R's cells are (-Inf, b1], (b1, b2], ..., (b_last, Inf), as mlekit's.
y <- read.csv("/work/shared/data/toxocara.csv")$number
ny <- length(y)
cat("\n==================== pois (toxocara) ====================\n")
b <- c(5, 6, 7, 8, 9, 10, 12)
f <- fitdist(y, "pois", method = "mle")  # optim: lambda 5e-9 (relative) off mean(y)
g <- gofstat(f, chisqbreaks = b)
cat("-- R: gofstat(fitdist(y, \"pois\", method = \"mle\"), chisqbreaks = c(5, 6, 7, 8, 9, 10, 12))\n")
line("estimate (optim)", f$estimate)
line("chisq", g$chisq)
line("chisqdf", g$chisqdf)
line("chisqpvalue", g$chisqpvalue)
line("observed", g$chisqtable[, 1])
line("expected", g$chisqtable[, 2])
est <- c(lambda = mean(y))  # the exact MLE
s <- fitdistrplus:::compute.gofstat.Chi2(sort(y), ny, "pois", "ppois", est, NULL, b)
cat("-- exact MLE: compute.gofstat.Chi2(sort(y), n, \"pois\", \"ppois\", c(lambda = mean(y)), NULL, c(5, 6, 7, 8, 9, 10, 12))\n")
line("estimate (exact)", est)
line("chisq", s$chisq)
line("chisqdf", s$chisqdf)
line("chisqpvalue", s$chisqpvalue)
line("expected", s$chisqtable[, 2])

cat("\n==================== nbinom (toxocara) ====================\n")
## optim stops short of the maximum; the exact MLE: mu = mean(y), size the root of the
## profile score sum(digamma(y + k)) - n digamma(k) + n log(k / (k + mean(y))) = 0
mu <- mean(y)
k <- uniroot(function(k) sum(digamma(y + k)) - ny * digamma(k) + ny * log(k / (k + mu)),
             c(0.01, 100), tol = 1e-15)$root
est <- c(size = k, mu = mu)
b <- c(0, 1, 3, 6, 10, 17)
s <- fitdistrplus:::compute.gofstat.Chi2(sort(y), ny, "nbinom", "pnbinom", est, NULL, b)
cat("-- exact MLE: compute.gofstat.Chi2(sort(y), n, \"nbinom\", \"pnbinom\", est, NULL, c(0, 1, 3, 6, 10, 17))\n")
line("estimate (exact)", est)
line("chisq", s$chisq)
line("chisqdf", s$chisqdf)
line("chisqpvalue", s$chisqpvalue)
line("observed", s$chisqtable[, 1])
line("expected", s$chisqtable[, 2])

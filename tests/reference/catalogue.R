## Reference MLE fits on real data for tests/test_reference_r.py (issue 3, the family catalogue).
## Run from the repository root:  Rscript tests/reference/catalogue.R > /tmp/catalogue.out
##
## For every case the script prints
##   * R's own fit (fitdistrplus::fitdist or MASS::fitdistr, with the exact call): estimate, SE
##     (from optim's numerical Hessian where R optimizes) and loglik;
##   * the exact MLE: the score equations solved to rounding (closed form, uniroot on the profile
##     score, or Newton with the analytic score and Hessian), its SEs from the analytic observed
##     information (cross-checked against numDeriv::hessian), and the loglik there;
##   * the loglik at both points, so the tests can check that the exact MLE is at least as good.
## All numbers are printed with sprintf("%.15g").
suppressPackageStartupMessages({
  library(MASS)
  library(fitdistrplus)
  library(numDeriv)
})
options(warn = -1)  # optim's "NaNs produced" while BFGS probes outside the space; harmless

g15 <- function(v) paste(sprintf("%.15g", v), collapse = "  ")
hdr <- function(s) cat("\n==================== ", s, " ====================\n", sep = "")
line <- function(label, v) cat(sprintf("   %-28s: %s\n", label, g15(v)))
se_of <- function(negH) sqrt(diag(solve(negH)))

## R's fit: estimate, SE, loglik, convergence code
show_r <- function(call, f) {
  cat("-- R: ", call, "\n", sep = "")
  cat("   names                       : ", paste(names(f$estimate), collapse = "  "), "\n", sep = "")
  line("estimate", f$estimate)
  line("SE (numerical Hessian)", f$sd)
  line("loglik", f$loglik)
  if (!is.null(f$convergence)) line("convergence", f$convergence)
}

## exact MLE: estimate, SE from the analytic information, loglik, score, numDeriv check
show_exact <- function(how, est, negH, ll, score) {
  cat("-- exact: ", how, "\n", sep = "")
  line("estimate", est)
  line("SE (analytic information)", se_of(negH))
  line("loglik", ll(est))
  line("score at the estimate", score(est))
  nd <- numDeriv::hessian(function(p) -ll(p), est)
  line("SE (numDeriv::hessian)", se_of(nd))
  line("max|H - numDeriv H|/max|H|", max(abs(negH - nd)) / max(abs(negH)))
}

## Newton with the analytic score and Hessian (of the loglik) until the step is ~ rounding
newton <- function(p, score, hess) {
  for (i in 1:100) {
    step <- solve(hess(p), score(p))
    p <- p - step
    if (max(abs(step / p)) < 1e-15) break
  }
  p
}

cat("R.version.string: ", R.version.string, "\n", sep = "")
cat("MASS ", as.character(packageVersion("MASS")),
    " | fitdistrplus ", as.character(packageVersion("fitdistrplus")),
    " | numDeriv ", as.character(packageVersion("numDeriv")), "\n", sep = "")

D <- "/work/shared/data/"
tight <- list(reltol = 1e-15, maxit = 10000)

## ---------------------------------------------------------------- data (checked against R's copies)
gb <- read.csv(paste0(D, "groundbeef.csv"))$serving
data("groundbeef", package = "fitdistrplus", envir = environment())
stopifnot(identical(gb, as.numeric(groundbeef$serving)))
dan <- read.csv(paste0(D, "danishuni.csv"))$Loss
data("danishuni", package = "fitdistrplus", envir = environment())
stopifnot(identical(dan, danishuni$Loss))
tox <- read.csv(paste0(D, "toxocara.csv"))$number
data("toxocara", package = "fitdistrplus", envir = environment())
stopifnot(identical(as.numeric(tox), as.numeric(toxocara$number)))
endo <- read.csv(paste0(D, "endosulfan.csv"))$ATV
data("endosulfan", package = "fitdistrplus", envir = environment())
stopifnot(identical(endo, endosulfan$ATV))
ab <- read.csv(paste0(D, "abbey.csv"))$abbey
stopifnot(identical(ab, as.numeric(MASS::abbey)))
dax <- read.csv(paste0(D, "eustockmarkets.csv"))$DAX
stopifnot(identical(dax, as.numeric(EuStockMarkets[, "DAX"])))
ret <- diff(log(dax))          # DAX daily log-returns (n = 1859)
ret100 <- 100 * ret            # the same in percent (better scaled for optim)

############################################################ LOGISTIC (groundbeef)
logis_fns <- function(x) {
  ll <- function(p) sum(dlogis(x, p[1], p[2], log = TRUE))
  score <- function(p) {
    s <- p[2]; z <- (x - p[1]) / s; t <- tanh(z / 2)
    c(sum(t) / s, sum(-1 + z * t) / s)
  }
  hess <- function(p) {
    s <- p[2]; z <- (x - p[1]) / s; t <- tanh(z / 2); d <- (1 - t^2) / 2
    hmm <- -sum(d) / s^2
    hms <- -sum(t + z * d) / s^2
    hss <- sum(1 - 2 * z * t - z^2 * d) / s^2
    matrix(c(hmm, hms, hms, hss), 2)
  }
  list(ll = ll, score = score, hess = hess)
}
hdr("groundbeef: logistic (location, scale)")
f <- fitdist(gb, "logis")
show_r('fitdistrplus::fitdist(x, "logis")  # Nelder-Mead, default control', f)
ft <- fitdist(gb, "logis", control = tight)
show_r('fitdistrplus::fitdist(x, "logis", control=list(reltol=1e-15, maxit=10000))', ft)
fn <- logis_fns(gb)
p <- newton(unname(ft$estimate), fn$score, fn$hess); names(p) <- c("location", "scale")
show_exact("Newton (analytic score/Hessian) from the tight fitdist estimate", p, -fn$hess(p), fn$ll, fn$score)
line("loglik at R default estimate", fn$ll(f$estimate))

############################################################ CAUCHY (groundbeef)
cauchy_fns <- function(x) {
  ll <- function(p) sum(dcauchy(x, p[1], p[2], log = TRUE))
  score <- function(p) {
    s <- p[2]; z <- (x - p[1]) / s; u <- 1 + z^2
    c(sum(2 * z / u) / s, sum(-1 + 2 * z^2 / u) / s)
  }
  hess <- function(p) {
    s <- p[2]; z <- (x - p[1]) / s; u <- 1 + z^2
    hmm <- -sum(2 * (1 - z^2) / u^2) / s^2
    hms <- -sum(4 * z / u^2) / s^2
    hss <- sum(1 - 2 * z^2 / u - 4 * z^2 / u^2) / s^2
    matrix(c(hmm, hms, hms, hss), 2)
  }
  list(ll = ll, score = score, hess = hess)
}
hdr("groundbeef: cauchy (location, scale)")
f <- fitdist(gb, "cauchy")
show_r('fitdistrplus::fitdist(x, "cauchy")  # Nelder-Mead, default control', f)
ft <- fitdist(gb, "cauchy", control = tight)
show_r('fitdistrplus::fitdist(x, "cauchy", control=list(reltol=1e-15, maxit=10000))', ft)
fn <- cauchy_fns(gb)
p <- newton(unname(ft$estimate), fn$score, fn$hess); names(p) <- c("location", "scale")
show_exact("Newton (analytic score/Hessian) from the tight fitdist estimate", p, -fn$hess(p), fn$ll, fn$score)
line("loglik at R default estimate", fn$ll(f$estimate))
## the Cauchy likelihood can be multimodal: profile over a location grid to show the maximum is global
prof <- sapply(seq(0, 200, by = 0.5), function(m)
  -optimize(function(ls) -fn$ll(c(m, exp(ls))), c(-5, 8), tol = 1e-10)$objective)
line("max profile loglik on grid", max(prof))

############################################################ LOGNORMAL (closed form)
lnorm_case <- function(label, x) {
  hdr(paste0(label, ": lognormal (meanlog, sdlog)"))
  f <- fitdist(x, "lnorm")
  show_r('fitdistrplus::fitdist(x, "lnorm")  # closed form', f)
  m <- MASS::fitdistr(x, "lognormal")
  show_r('MASS::fitdistr(x, "lognormal")  # closed form; SE sdlog/sqrt(n), sdlog/sqrt(2n)', m)
  n <- length(x); lx <- log(x); ml <- mean(lx); sl <- sqrt(mean((lx - ml)^2))
  est <- c(meanlog = ml, sdlog = sl)
  ll <- function(p) sum(dlnorm(x, p[1], p[2], log = TRUE))
  score <- function(p) c(sum(lx - p[1]) / p[2]^2, sum(-1 / p[2] + (lx - p[1])^2 / p[2]^3))
  show_exact("closed form mean(log x), sqrt(mean((log x - meanlog)^2))", est,
             diag(c(n / sl^2, 2 * n / sl^2)), ll, score)
}
lnorm_case("danishuni", dan)
lnorm_case("endosulfan", endo)

############################################################ GAMMA (danishuni)
hdr("danishuni: gamma (shape, rate)")
x <- dan; n <- length(x)
m <- mean(x); v <- var(x)
st <- list(shape = m^2 / v, rate = m / v)   # moment start
cat("   moment start: shape =", sprintf("%.15g", st$shape), " rate =", sprintf("%.15g", st$rate), "\n")
f <- fitdist(x, "gamma")
show_r('fitdistrplus::fitdist(x, "gamma")  # Nelder-Mead from the moment start, default control', f)
ft <- fitdist(x, "gamma", start = st, control = list(reltol = 1e-14, maxit = 10000))
show_r('fitdistrplus::fitdist(x, "gamma", start=list(shape=m^2/v, rate=m/v), control=list(reltol=1e-14, maxit=10000))', ft)
fb <- fitdist(x, "gamma", start = st, optim.method = "BFGS",
              control = list(reltol = 1e-15, maxit = 10000, parscale = c(1, st$rate)))
show_r('fitdistrplus::fitdist(x, "gamma", start=<moments>, optim.method="BFGS", control=list(reltol=1e-15, maxit=10000, parscale=c(1, m/v)))', fb)
s_g <- log(mean(x)) - mean(log(x))
k <- uniroot(function(k) log(k) - digamma(k) - s_g, c(0.01, 100), tol = 1e-300, maxiter = 10000)$root
for (i in 1:3) k <- k - (log(k) - digamma(k) - s_g) / (1 / k - trigamma(k))
r <- k / mean(x)
est <- c(shape = k, rate = r)
ll <- function(p) sum(dgamma(x, shape = p[1], rate = p[2], log = TRUE))
score <- function(p) c(n * log(p[2]) - n * digamma(p[1]) + sum(log(x)), n * p[1] / p[2] - sum(x))
show_exact("uniroot + Newton on log(a) - digamma(a) = log(mean x) - mean(log x), rate = a/mean(x)",
           est, n * matrix(c(trigamma(k), -1 / r, -1 / r, k / r^2), 2), ll, score)
line("profile residual", log(k) - digamma(k) - s_g)
line("loglik at R default estimate", ll(f$estimate))
line("loglik at R tight estimate", ll(ft$estimate))
line("loglik at R BFGS estimate", ll(fb$estimate))

############################################################ POISSON / NEGATIVE BINOMIAL (toxocara)
hdr("toxocara: poisson (lambda)")
x <- tox; n <- length(x)
f <- MASS::fitdistr(x, "Poisson")
show_r('MASS::fitdistr(x, "Poisson")  # closed form lambda = mean(x), SE sqrt(lambda/n)', f)
ll <- function(p) sum(dpois(x, p[1], log = TRUE))
est <- c(lambda = mean(x))
show_exact("closed form mean(x)", est, matrix(n / mean(x)), ll, function(p) sum(x / p[1] - 1))

hdr("toxocara: negative binomial (size, mu)")
f <- MASS::fitdistr(x, "negative binomial")
show_r('MASS::fitdistr(x, "negative binomial")  # BFGS from the moment start, default control', f)
ft <- MASS::fitdistr(x, "negative binomial", control = list(reltol = 1e-15, maxit = 10000))
show_r('MASS::fitdistr(x, "negative binomial", control=list(reltol=1e-15, maxit=10000))', ft)
mu <- mean(x)
prof_nb <- function(k) sum(digamma(x + k)) - n * digamma(k) + n * log(k / (k + mu))
k <- uniroot(prof_nb, c(0.01, 100), tol = 1e-300, maxiter = 10000)$root
ll <- function(p) sum(dnbinom(x, size = p[1], mu = p[2], log = TRUE))
score <- function(p) {
  k <- p[1]; mu <- p[2]
  c(sum(digamma(x + k) - digamma(k) + log(k / (k + mu)) + 1 - (k + x) / (k + mu)),
    sum(x / mu - (x + k) / (k + mu)))
}
hess <- function(p) {
  k <- p[1]; mu <- p[2]
  hkk <- sum(trigamma(x + k) - trigamma(k) + 1 / k - 1 / (k + mu) - (mu - x) / (k + mu)^2)
  hkm <- sum((x - mu) / (k + mu)^2)
  hmm <- sum(-x / mu^2 + (x + k) / (k + mu)^2)
  matrix(c(hkk, hkm, hkm, hmm), 2)
}
est <- newton(c(k, mu), score, hess); names(est) <- c("size", "mu")
show_exact("mu = mean(x); uniroot on the profile score sum(digamma(x+k)) - n digamma(k) + n log(k/(k+mu)), then Newton",
           est, -hess(est), ll, score)
line("profile residual", prof_nb(est[1]))
line("loglik at R default estimate", ll(f$estimate))
line("loglik at R tight estimate", ll(ft$estimate))

############################################################ STUDENT t (abbey, DAX)
t_fns <- function(y) {
  ll <- function(p) sum(dt((y - p[1]) / p[2], p[3], log = TRUE) - log(p[2]))
  score <- function(p) {
    m <- p[1]; s <- p[2]; nu <- p[3]; r <- (y - m) / s; u <- nu + r^2
    c(sum((nu + 1) * r / (s * u)),
      sum(-1 / s + (nu + 1) * r^2 / (s * u)),
      sum(0.5 * digamma((nu + 1) / 2) - 0.5 * digamma(nu / 2) - 1 / (2 * nu) -
            0.5 * log1p(r^2 / nu) + (nu + 1) * r^2 / (2 * nu * u)))
  }
  hess <- function(p) {
    m <- p[1]; s <- p[2]; nu <- p[3]; r <- (y - m) / s; u <- nu + r^2
    hmm <- sum(-(nu + 1) * (nu - r^2) / (s^2 * u^2))
    hms <- sum(-2 * (nu + 1) * r * nu / (s^2 * u^2))
    hmn <- sum(r * (r^2 - 1) / (s * u^2))
    hss <- sum(1 / s^2 - (nu + 1) * (3 * r^2 * nu + r^4) / (s^2 * u^2))
    hsn <- sum(r^2 * (r^2 - 1) / (s * u^2))
    hnn <- sum(0.25 * trigamma((nu + 1) / 2) - 0.25 * trigamma(nu / 2) + 1 / (2 * nu^2) -
                 0.5 / u + 0.5 / nu + r^2 / 2 * (nu * u - (nu + 1) * (u + nu)) / (nu^2 * u^2))
    matrix(c(hmm, hms, hmn, hms, hss, hsn, hmn, hsn, hnn), 3)
  }
  list(ll = ll, score = score, hess = hess)
}
t_case <- function(label, y, start, start_txt, parscale, parscale_txt) {
  hdr(paste0(label, ": Student t (MASS m, s, df = mlekit location, scale, df)"))
  fn <- t_fns(y)
  f <- MASS::fitdistr(y, "t")
  show_r('MASS::fitdistr(x, "t")  # default start m=median, s=IQR/2, df=10; BFGS, default control', f)
  ft <- MASS::fitdistr(y, "t", start = start,
                       control = list(reltol = 1e-15, maxit = 10000, parscale = parscale))
  show_r(paste0('MASS::fitdistr(x, "t", start=', start_txt,
                ', control=list(reltol=1e-15, maxit=10000, parscale=', parscale_txt, '))'), ft)
  p <- newton(unname(ft$estimate), fn$score, fn$hess); names(p) <- c("location", "scale", "df")
  show_exact("Newton (analytic score/Hessian) from the tight MASS estimate", p, -fn$hess(p), fn$ll, fn$score)
  line("loglik at R default estimate", fn$ll(f$estimate))
  line("loglik at R tight estimate", fn$ll(ft$estimate))
  cat("   analytic vcov (row-major):\n"); line("vcov", t(solve(-fn$hess(p))))
  invisible(p)
}
t_case("abbey", ab, list(m = 10, s = 3, df = 1.5), "list(m=10, s=3, df=1.5)",
       c(1, 1, 1), "c(1, 1, 1)")
t_case("DAX 100*diff(log(DAX))", ret100, list(m = 0.07, s = 0.75, df = 4), "list(m=0.07, s=0.75, df=4)",
       c(0.01, 0.1, 1), "c(0.01, 0.1, 1)")
t_case("DAX diff(log(DAX))", ret, list(m = 7e-4, s = 7.5e-3, df = 4), "list(m=7e-4, s=7.5e-3, df=4)",
       c(1e-4, 1e-3, 1), "c(1e-4, 1e-3, 1)")
cat("\nDAX n =", length(ret), "\n")

## Censored fits as references for tests/test_censored.py (R 4.2.2; versions printed below).
## Run from the repository root:  Rscript tests/reference/censored.R > tests/reference/censored.out
suppressMessages({library(fitdistrplus); library(survival)})
cat("fitdistrplus", as.character(packageVersion("fitdistrplus")), " survival",
    as.character(packageVersion("survival")), "\n")
D <- "../shared/data"
show <- function(title, est, se, loglik) {
  cat("====", title, "====\n")
  cat("estimate", sprintf("%.17g", est), "\n")
  cat("se", sprintf("%.17g", se), "\n")
  cat("loglik", sprintf("%.17g", loglik), "\n")
}
for (name in c("fluazinam", "salinity", "smokedfish")) {
  d <- read.csv(file.path(D, paste0(name, ".csv")))
  f <- fitdistcens(d, "lnorm", control = list(reltol = 1e-14, maxit = 10000))
  show(sprintf('fitdistcens(%s, "lnorm", control=list(reltol=1e-14))', name),
       f$estimate, f$sd, f$loglik)
}
lung <- read.csv(file.path(D, "lung.csv"))
ovarian <- read.csv(file.path(D, "ovarian.csv"))
ctl <- survreg.control(rel.tolerance = 1e-14, maxiter = 200)
for (dist in c("weibull", "lognormal")) {
  f <- survreg(Surv(time, status) ~ 1, lung, dist = dist, control = ctl)
  show(sprintf('survreg(Surv(time, status) ~ 1, lung, dist="%s"): (Intercept), log(scale)', dist),
       c(coef(f), log(f$scale)), sqrt(diag(vcov(f))), f$loglik[1])
}
for (dist in c("weibull", "exponential")) {
  f <- survreg(Surv(futime, fustat) ~ 1, ovarian, dist = dist, control = ctl)
  est <- if (dist == "weibull") c(coef(f), log(f$scale)) else coef(f)
  show(sprintf('survreg(Surv(futime, fustat) ~ 1, ovarian, dist="%s"): (Intercept), log(scale)', dist),
       est, sqrt(diag(vcov(f))), f$loglik[1])
}
## accelerated failure time regressions (survreg's coefficients, then Log(scale) where estimated)
for (dist in c("weibull", "lognormal", "loglogistic", "exponential", "gaussian", "logistic")) {
  f <- survreg(Surv(time, status) ~ age + sex, lung, dist = dist, control = ctl)
  est <- if (dist == "exponential") coef(f) else c(coef(f), log(f$scale))
  show(sprintf('survreg(Surv(time, status) ~ age + sex, lung, dist="%s")', dist),
       est, sqrt(diag(vcov(f))), f$loglik[2])
}
## inspections every 30.4 days: interval-censored deaths, left-censored in the first month
lo <- floor(lung$time / 30.4) * 30.4
hi <- ifelse(lung$status == 2, lo + 30.4, NA)
lo[lo == 0] <- NA
f <- survreg(Surv(lo, hi, type = "interval2") ~ age + sex, lung, dist = "weibull", control = ctl)
show('survreg(Surv(lo, hi, type="interval2") ~ age + sex, lung, dist="weibull"), monthly',
     c(coef(f), log(f$scale)), sqrt(diag(vcov(f))), f$loglik[2])
## case weights 1, 2, 3, 1, 2, 3, ...
w <- rep_len(1:3, nrow(lung))
f <- survreg(Surv(time, status) ~ age + sex, lung, weights = w, dist = "weibull", control = ctl)
show('survreg(Surv(time, status) ~ age + sex, lung, weights=rep_len(1:3, n), dist="weibull")',
     c(coef(f), log(f$scale)), sqrt(diag(vcov(f))), f$loglik[2])

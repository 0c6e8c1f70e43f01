## Reference MLE fits for the Python MLE library.
## Run:  Rscript /tmp/rref/refs.R > /tmp/rref/refs.out 2>&1
suppressPackageStartupMessages({
  library(MASS)
  library(fitdistrplus)
  library(numDeriv)
})

f12 <- function(x) paste(sprintf("%.12g", x), collapse = "  ")
hdr <- function(s) cat("\n==================== ", s, " ====================\n", sep = "")
show <- function(label, est, se = NULL, ll = NULL, extra = NULL, full = FALSE) {
  cat("-- ", label, "\n", sep = "")
  cat("   names    : ", paste(names(est), collapse = "  "), "\n", sep = "")
  cat("   estimate : ", f12(est), "\n", sep = "")
  if (!is.null(se)) cat("   SE       : ", f12(se), "\n", sep = "")
  if (!is.null(ll)) cat("   loglik   : ", f12(ll), "\n", sep = "")
  if (!is.null(extra)) cat("   ", extra, "\n", sep = "")
  if (full) {
    f17 <- function(v) paste(sprintf("%.17g", v), collapse = "  ")
    cat("   [17 digits] estimate : ", f17(est), "\n", sep = "")
    if (!is.null(se)) cat("   [17 digits] SE       : ", f17(se), "\n", sep = "")
    if (!is.null(ll)) cat("   [17 digits] loglik   : ", f17(ll), "\n", sep = "")
  }
}
se_from_negH <- function(H) sqrt(diag(solve(H)))   # H = Hessian of the NEGATIVE loglik

cat("R.version.string: ", R.version.string, "\n")
cat("MASS ", as.character(packageVersion("MASS")),
    " | fitdistrplus ", as.character(packageVersion("fitdistrplus")),
    " | numDeriv ", as.character(packageVersion("numDeriv")), "\n", sep = "")

## ---------------------------------------------------------------- data
x <- read.csv("/work/shared/data/groundbeef.csv")$serving
data("groundbeef", package = "fitdistrplus", envir = environment()); stopifnot(isTRUE(all.equal(x, as.numeric(groundbeef$serving), tolerance = 0)))
y <- read.csv("/work/shared/data/abbey.csv")$abbey
stopifnot(isTRUE(all.equal(y, as.numeric(MASS::abbey), tolerance = 0)))
n <- length(x)
cat("groundbeef n =", n, " mean =", f12(mean(x)), " sum(log x) =", f12(sum(log(x))), "\n")
cat("abbey n =", length(y), "\n")

ctl <- list(reltol = 1e-15, maxit = 10000)
## optim() emits "NaNs produced" warnings when BFGS probes negative shape/scale/df; they are harmless here.
options(warn = -1)

## Helper to print a fitdistrplus / MASS fit
show_fd <- function(label, f) {
  conv <- if (!is.null(f$convergence)) paste("convergence =", f$convergence) else NULL
  show(label, f$estimate, f$sd, f$loglik, conv)
}

############################################################ NORMAL
hdr("groundbeef: normal")
fd <- fitdist(x, "norm", control = ctl)                               # Nelder-Mead (fitdistrplus default)
show_fd('fitdist(x, "norm", control=list(reltol=1e-15, maxit=10000))', fd)
fdb <- fitdist(x, "norm", optim.method = "BFGS", control = ctl)
show_fd('fitdist(x, "norm", optim.method="BFGS", control=list(reltol=1e-15, maxit=10000))', fdb)
ms <- fitdistr(x, "normal")                                           # MASS: closed form
show('MASS::fitdistr(x, "normal")  [closed form]', ms$estimate, ms$sd, ms$loglik)
## exact
mu <- mean(x); sig <- sqrt(mean((x - mu)^2))
ll_norm <- function(p) sum(dnorm(x, p[1], p[2], log = TRUE))
est <- c(mean = mu, sd = sig)
show("exact closed form: mean(x), sqrt(mean((x-mean)^2)); SE analytic = sd/sqrt(n), sd/sqrt(2n)",
     est, c(sig / sqrt(n), sig / sqrt(2 * n)), ll_norm(est), full = TRUE)
show("   numDeriv::hessian(-loglik) at exact MLE -> SE", est,
     se_from_negH(numDeriv::hessian(function(p) -ll_norm(p), est)))
show("   optimHess(-loglik) at exact MLE -> SE", est,
     se_from_negH(optimHess(est, function(p) -ll_norm(p))))

############################################################ LOGNORMAL
hdr("groundbeef: lognormal")
fd <- fitdist(x, "lnorm", control = ctl)
show_fd('fitdist(x, "lnorm", control=list(reltol=1e-15, maxit=10000))', fd)
fdb <- fitdist(x, "lnorm", optim.method = "BFGS", control = ctl)
show_fd('fitdist(x, "lnorm", optim.method="BFGS", control=list(reltol=1e-15, maxit=10000))', fdb)
ms <- fitdistr(x, "lognormal")
show('MASS::fitdistr(x, "lognormal")  [closed form]', ms$estimate, ms$sd, ms$loglik)
lx <- log(x); ml <- mean(lx); sl <- sqrt(mean((lx - ml)^2))
ll_lnorm <- function(p) sum(dlnorm(x, p[1], p[2], log = TRUE))
est <- c(meanlog = ml, sdlog = sl)
show("exact closed form on log(x); SE analytic = sdlog/sqrt(n), sdlog/sqrt(2n)",
     est, c(sl / sqrt(n), sl / sqrt(2 * n)), ll_lnorm(est), full = TRUE)
show("   numDeriv::hessian(-loglik) at exact MLE -> SE", est,
     se_from_negH(numDeriv::hessian(function(p) -ll_lnorm(p), est)))
show("   optimHess(-loglik) at exact MLE -> SE", est,
     se_from_negH(optimHess(est, function(p) -ll_lnorm(p))))

############################################################ EXPONENTIAL
hdr("groundbeef: exponential")
fd <- fitdist(x, "exp", control = ctl)                                # BFGS (1 parameter)
show_fd('fitdist(x, "exp", control=list(reltol=1e-15, maxit=10000))', fd)
ms <- fitdistr(x, "exponential")
show('MASS::fitdistr(x, "exponential")  [closed form]', ms$estimate, ms$sd, ms$loglik)
ll_exp <- function(p) sum(dexp(x, p[1], log = TRUE))
est <- c(rate = 1 / mean(x))
show("exact closed form rate = 1/mean(x); SE analytic = rate/sqrt(n)",
     est, est / sqrt(n), ll_exp(est), full = TRUE)
show("   numDeriv::hessian(-loglik) at exact MLE -> SE", est,
     se_from_negH(numDeriv::hessian(function(p) -ll_exp(p), est)))
show("   optimHess(-loglik) at exact MLE -> SE", est,
     se_from_negH(optimHess(est, function(p) -ll_exp(p))))

############################################################ GAMMA
hdr("groundbeef: gamma")
fd <- fitdist(x, "gamma", control = ctl)
show_fd('fitdist(x, "gamma", control=list(reltol=1e-15, maxit=10000))', fd)
fdb <- fitdist(x, "gamma", optim.method = "BFGS", control = ctl)
show_fd('fitdist(x, "gamma", optim.method="BFGS", control=list(reltol=1e-15, maxit=10000))', fdb)
fdl <- fitdist(x, "gamma", lower = c(0, 0), control = list(factr = 1, pgtol = 0, maxit = 10000))
show_fd('fitdist(x, "gamma", lower=c(0,0), control=list(factr=1, pgtol=0, maxit=10000))  [L-BFGS-B]', fdl)
## MASS: default call (NB: MASS overwrites a user 'control' with its own parscale when start is missing)
ms0 <- fitdistr(x, "gamma")
show('MASS::fitdistr(x, "gamma")  [default; user control would be ignored]', ms0$estimate, ms0$sd, ms0$loglik)
m <- mean(x); v <- var(x); st <- list(shape = m^2 / v, rate = m / v)
ms <- fitdistr(x, "gamma", start = st,
               control = list(reltol = 1e-15, maxit = 10000, parscale = c(1, st$rate)))
show('MASS::fitdistr(x, "gamma", start=list(shape=m^2/v, rate=m/v), control=list(reltol=1e-15, maxit=10000, parscale=c(1, m/v)))',
     ms$estimate, ms$sd, ms$loglik)
## exact: solve profile score  log(k) - digamma(k) = log(mean x) - mean(log x)
s_g <- log(mean(x)) - mean(log(x))
k <- uniroot(function(k) log(k) - digamma(k) - s_g, c(0.01, 100), tol = 1e-300, maxiter = 10000)$root
## three Newton polish steps (derivative: 1/k - trigamma(k))
for (i in 1:3) k <- k - (log(k) - digamma(k) - s_g) / (1 / k - trigamma(k))
r <- k / mean(x)
est <- c(shape = k, rate = r)
ll_gamma <- function(p) sum(dgamma(x, shape = p[1], rate = p[2], log = TRUE))
Hg <- n * matrix(c(trigamma(k), -1 / r, -1 / r, k / r^2), 2)          # observed info (= expected)
show("exact: uniroot+Newton on log(k)-digamma(k)=log(mean x)-mean(log x), rate=k/mean(x); SE from analytic observed information",
     est, se_from_negH(Hg), ll_gamma(est),
     paste("profile residual =", format(log(k) - digamma(k) - s_g),
           "; score(shape,rate) =", f12(c(n * log(r) - n * digamma(k) + sum(log(x)), n * k / r - sum(x)))),
     full = TRUE)
show("   numDeriv::hessian(-loglik) at exact MLE -> SE", est,
     se_from_negH(numDeriv::hessian(function(p) -ll_gamma(p), est)))
show("   optimHess(-loglik) at exact MLE -> SE", est,
     se_from_negH(optimHess(est, function(p) -ll_gamma(p))))
cat("   analytic vcov:\n"); print(solve(Hg), digits = 12)

############################################################ WEIBULL
hdr("groundbeef: weibull")
fd <- fitdist(x, "weibull", control = ctl)
show_fd('fitdist(x, "weibull", control=list(reltol=1e-15, maxit=10000))', fd)
fdb <- fitdist(x, "weibull", optim.method = "BFGS", control = ctl)
show_fd('fitdist(x, "weibull", optim.method="BFGS", control=list(reltol=1e-15, maxit=10000))', fdb)
ms <- fitdistr(x, "weibull", control = ctl)
show('MASS::fitdistr(x, "weibull", control=list(reltol=1e-15, maxit=10000))', ms$estimate, ms$sd, ms$loglik)
lw <- log(x)
st <- list(shape = 1.2 / sqrt(var(lw)))
st$scale <- exp(mean(lw) + 0.572 / st$shape)
ms2 <- fitdistr(x, "weibull", start = st, control = c(ctl, list(parscale = c(1, st$scale))))
show('MASS::fitdistr(x, "weibull", start=<MASS default start>, control=list(reltol=1e-15, maxit=10000, parscale=c(1, scale0)))',
     ms2$estimate, ms2$sd, ms2$loglik)
## exact: profile score  sum(x^k log x)/sum(x^k) - 1/k - mean(log x) = 0 ; scale = mean(x^k)^(1/k)
prof_w <- function(k) { w <- x^k; sum(w * lw) / sum(w) - 1 / k - mean(lw) }
k <- uniroot(prof_w, c(0.1, 50), tol = 1e-300, maxiter = 10000)$root
lam <- mean(x^k)^(1 / k)
est <- c(shape = k, scale = lam)
ll_weib <- function(p) sum(dweibull(x, shape = p[1], scale = p[2], log = TRUE))
z <- x / lam; zk <- z^k; lz <- log(z)
## Hessian of loglik (general formula, not using the score equations)
h_kk <- -n / k^2 - sum(zk * lz^2)
h_ll <- n * k / lam^2 - k * (k + 1) / lam^2 * sum(zk)
h_kl <- -n / lam + sum(zk) / lam + k / lam * sum(zk * lz)
Hw <- -matrix(c(h_kk, h_kl, h_kl, h_ll), 2)
show("exact: uniroot on Weibull profile score, scale=mean(x^k)^(1/k); SE from analytic observed information",
     est, se_from_negH(Hw), ll_weib(est),
     paste("profile residual =", format(prof_w(k)),
           "; score(shape,scale) =", f12(c(n / k - n * log(lam) + sum(lw) - sum(zk * lz), -n * k / lam + k / lam * sum(zk)))), full = TRUE)
show("   numDeriv::hessian(-loglik) at exact MLE -> SE", est,
     se_from_negH(numDeriv::hessian(function(p) -ll_weib(p), est)))
show("   optimHess(-loglik) at exact MLE -> SE", est,
     se_from_negH(optimHess(est, function(p) -ll_weib(p))))
cat("   analytic vcov:\n"); print(solve(Hw), digits = 12)

############################################################ STUDENT t (abbey)
hdr("abbey: Student t (location m, scale s, df)")
ll_t <- function(p) sum(dt((y - p[1]) / p[2], p[3], log = TRUE) - log(p[2]))
## analytic score and Hessian of the loglik
score_t <- function(p) {
  m <- p[1]; s <- p[2]; nu <- p[3]; r <- (y - m) / s; u <- nu + r^2
  c(sum((nu + 1) * r / (s * u)),
    sum(-1 / s + (nu + 1) * r^2 / (s * u)),
    sum(0.5 * digamma((nu + 1) / 2) - 0.5 * digamma(nu / 2) - 1 / (2 * nu) -
          0.5 * log1p(r^2 / nu) + (nu + 1) * r^2 / (2 * nu * u)))
}
hess_t <- function(p) {
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
mt <- fitdistr(y, "t", control = ctl)
show('MASS::fitdistr(y, "t", control=list(reltol=1e-15, maxit=10000))  [start m=median, s=IQR/2, df=10; BFGS]',
     mt$estimate, mt$sd, mt$loglik)
mt0 <- fitdistr(y, "t")
show('MASS::fitdistr(y, "t")  [R defaults, for comparison]', mt0$estimate, mt0$sd, mt0$loglik)
starts <- list(
  list(m = 10, s = 3, df = 1),
  list(m = 15, s = 10, df = 30),
  list(m = 8, s = 1, df = 0.5),
  list(m = mean(y), s = sd(y), df = 5),
  list(m = 12, s = 2, df = 2),
  list(m = 9, s = 5, df = 100))
for (st in starts) {
  f <- try(fitdistr(y, "t", start = st, control = ctl), silent = TRUE)
  if (inherits(f, "try-error")) { cat("-- start", f12(unlist(st)), ": FAILED ", f, "\n"); next }
  show(paste0('MASS::fitdistr(y, "t", start=list(m=', st$m, ", s=", signif(st$s, 6), ", df=", st$df,
              "), control=list(reltol=1e-15, maxit=10000))"),
       f$estimate, f$sd, f$loglik)
}
## Nelder-Mead on log-scale params from a distant start, as a further check
nm <- optim(c(10, log(3), log(3)), function(q) -ll_t(c(q[1], exp(q[2]), exp(q[3]))),
            control = list(reltol = 1e-15, maxit = 1e5))
cat("-- Nelder-Mead (m, log s, log df) from (10, log 3, log 3): ", f12(c(nm$par[1], exp(nm$par[2:3]))),
    " loglik ", f12(-nm$value), "\n")
## Newton polish with analytic score/Hessian from the MASS tight estimate
p <- unname(mt$estimate)
for (i in 1:50) {
  step <- solve(hess_t(p), score_t(p))
  p <- p - step
  if (max(abs(step / p)) < 1e-15) break
}
names(p) <- c("m", "s", "df")
show("Newton-polished MLE (analytic score & Hessian); SE from analytic observed information",
     p, se_from_negH(-hess_t(p)), ll_t(p),
     paste("Newton iterations =", i, "; score at MLE =", f12(score_t(p))), full = TRUE)
show("   numDeriv::hessian(-loglik) at polished MLE -> SE", p,
     se_from_negH(numDeriv::hessian(function(q) -ll_t(q), p)))
show("   optimHess(-loglik) at polished MLE -> SE", p,
     se_from_negH(optimHess(p, function(q) -ll_t(q))))
cat("   max |analytic H - numDeriv H| =",
    format(max(abs(-hess_t(p) - numDeriv::hessian(function(q) -ll_t(q), p)))), "\n")
cat("   analytic vcov:\n"); print(solve(-hess_t(p)), digits = 12)
## profile check: loglik on a grid of df around the MLE, maximizing over (m, s)
cat("   profile loglik over df (max over m,s):\n")
for (d in c(0.5, 1, 2, 5, 10, 30, 100)) {
  o <- optim(p[1:2], function(q) -ll_t(c(q, d)), control = list(reltol = 1e-15, maxit = 1e4))
  cat(sprintf("     df=%-5g loglik=%.12g\n", d, -o$value))
}

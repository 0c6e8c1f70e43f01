## Reference values for mk.glm / mk.lm (regression fits on the shared real datasets).
## Run from the repository root (/work/main), so that the data directory is ../shared/data/:
##   Rscript tests/reference/regression.R > tests/reference/regression.out
##
## Every fit is run from a string holding the exact R call (eval(parse(text = call))), and that
## string is printed before its numbers ("-- R: <call>"), so the printed call is what ran.
## For each fit the script prints: coefficient names; estimate, std. error, z or t value, p-value
## (summary(fit)$coefficients); logLik(fit) and its df; nobs; AIC; BIC; deviance; null deviance;
## df.residual; df.null; dispersion (summary(fit)$dispersion); fit$iter (Fisher scoring
## iterations); converged; the score X' [w (y - mu) / V(mu) * dmu/deta] at the estimate (how far
## from the exact root R's default stopping rule leaves it); and vcov(fit), one row per line.
##
## R's glm() stops when |dev - dev_old| / (|dev| + 0.1) < epsilon = 1e-8 (glm.control default),
## so its coefficients are not converged to all 17 digits. Each glm is therefore also refitted with
## glm.control(epsilon = 1e-15, maxit = 100) ("tight"); the tight block gives estimate, SE,
## logLik, deviance, iterations, the score, and the largest relative change from the default fit,
## i.e. the tolerance at which the default-control numbers can be compared.
## Moreover, R's vcov/SE come from the IRLS weights at the START of the last iteration (the
## penultimate iterate), not at the returned estimate; and for non-canonical links (probit,
## cloglog, Gamma log) Fisher scoring converges only linearly, so even the tight fit leaves a
## score of ~1e-5 while its deviance has stopped changing. Each glm is therefore also "polished"
## ("exact" block): starting from the tight estimate b, the script repeats single Fisher scoring
## steps, each one a real glm call
##   glm(<call>, start = b, control = glm.control(epsilon = 1e-15, maxit = 1));  b <- coef(.)
## until the step is at rounding level. The last such glm object has its vcov evaluated at its start
## (= its estimate to rounding), so its estimate, SE, vcov, logLik, ... are the exact MLE quantities
## to ~1e-13 or so: these are the numbers to compare a converged implementation with.
##
## All numbers are printed with sprintf("%.17g"); a vector is printed on one line, its entries
## separated by two spaces, in the order of the "names" line above it.
suppressPackageStartupMessages(library(stats))
options(width = 200)

g17 <- function(v) paste(sprintf("%.17g", as.numeric(v)), collapse = "  ")
hdr <- function(s) cat("\n==================== ", s, " ====================\n", sep = "")
say <- function(label, v) cat(sprintf("   %-34s: %s\n", label, g17(v)))
says <- function(label, s) cat(sprintf("   %-34s: %s\n", label, paste(s, collapse = "  ")))
run <- function(call) {
  cat("-- R: ", call, "\n", sep = "")
  eval(parse(text = call), envir = globalenv())
}
maxrel <- function(a, b) max(abs(a - b) / pmax(abs(b), 1e-300))

## quasi-score of the regression coefficients, X' [w (y - mu) / V(mu) * dmu/deta]
## (the dispersion factor 1/phi is left out; zero at the exact MLE)
glm_score <- function(fit) {
  X <- model.matrix(fit); fam <- fit$family
  w <- fit$prior.weights; y <- fit$y; mu <- fit$fitted.values; eta <- fit$linear.predictors
  drop(crossprod(X, w * (y - mu) / fam$variance(mu) * fam$mu.eta(eta)))
}

show_vcov <- function(V, what = "vcov") {
  cat("   ", what, " (rows in the order of names; one row per line):\n", sep = "")
  for (nm in rownames(V)) say(paste0(what, "[", nm, ", ]"), V[nm, ])
}

## dispersion * inverse expected information, with the IRLS weights at the returned estimate
vcov_at <- function(fit, dispersion) {
  X <- model.matrix(fit); fam <- fit$family
  mu <- fit$fitted.values; eta <- fit$linear.predictors
  W <- fit$prior.weights * fam$mu.eta(eta)^2 / fam$variance(mu)
  V <- dispersion * solve(crossprod(X, W * X))
  dimnames(V) <- list(colnames(X), colnames(X))
  V
}

show_glm <- function(fit) {
  s <- summary(fit); cf <- s$coefficients; ll <- logLik(fit)
  says("names", rownames(cf))
  say("estimate", cf[, 1])
  say("std. error", cf[, 2])
  say(colnames(cf)[3], cf[, 3])
  say(colnames(cf)[4], cf[, 4])
  say("logLik", ll)
  say("logLik df", attr(ll, "df"))
  say("nobs", nobs(fit))
  say("AIC", AIC(fit))
  say("BIC", BIC(fit))
  say("deviance", deviance(fit))
  say("null deviance", fit$null.deviance)
  say("df.residual", fit$df.residual)
  say("df.null", fit$df.null)
  say("dispersion", s$dispersion)
  say("iter", fit$iter)
  says("converged", fit$converged)
  say("score at estimate", glm_score(fit))
  show_vcov(vcov(fit))
}

## tight refit: call text = the default call with the control argument added
show_tight <- function(call, fit0) {
  fit <- suppressWarnings(run(call))
  s <- summary(fit); cf <- s$coefficients; cf0 <- summary(fit0)$coefficients
  say("estimate", cf[, 1])
  say("std. error", cf[, 2])
  say(colnames(cf)[3], cf[, 3])
  say(colnames(cf)[4], cf[, 4])
  say("logLik", logLik(fit))
  say("deviance", deviance(fit))
  say("dispersion", s$dispersion)
  say("iter", fit$iter)
  says("converged", fit$converged)
  say("score at estimate", glm_score(fit))
  say("max rel diff estimate vs default", maxrel(cf0[, 1], cf[, 1]))
  say("max rel diff SE vs default", maxrel(cf0[, 2], cf[, 2]))
  say("rel diff logLik vs default", maxrel(logLik(fit0), logLik(fit)))
  invisible(fit)
}

## exact: repeated single Fisher scoring steps from the tight estimate (see the header)
polish_call <- function(call) sub(")$", ", start = b, control = glm.control(epsilon = 1e-15, maxit = 1))", call)
show_exact <- function(call, fit_tight, fit0) {
  pc <- polish_call(call)
  cat("-- exact: b <- coef(<tight fit>); repeat single Fisher scoring steps  ", pc,
      "; b <- coef(.)  until max|step| <= 1e-15 max|b| (or it stops decreasing)\n", sep = "")
  b <- coef(fit_tight); prev <- Inf; k <- 0; small <- 0
  assign("b", b, envir = globalenv())
  repeat {
    k <- k + 1
    fit <- suppressWarnings(eval(parse(text = pc), envir = globalenv()))
    step <- max(abs(coef(fit) - b)); b <- coef(fit); assign("b", b, envir = globalenv())
    if (step <= 1e-15 * max(abs(b))) break
    if (step >= prev) small <- small + 1
    if (small >= 3 || k >= 500) break
    prev <- step
  }
  s <- summary(fit); cf <- s$coefficients; ll <- logLik(fit)
  say("Fisher steps, last max|step|", c(k, step))
  say("estimate", cf[, 1])
  say("std. error", cf[, 2])
  say(colnames(cf)[3], cf[, 3])
  say(colnames(cf)[4], cf[, 4])
  say("logLik", ll)
  say("AIC", AIC(fit))
  say("BIC", BIC(fit))
  say("deviance", deviance(fit))
  say("dispersion", s$dispersion)
  say("score at estimate", glm_score(fit))
  say("max rel diff SE vs (X'WX)^-1 at est.", maxrel(cf[, 2], sqrt(diag(vcov_at(fit, s$dispersion)))))
  say("max rel diff estimate: default", maxrel(coef(fit0), cf[, 1]))
  say("max rel diff SE: default", maxrel(summary(fit0)$coefficients[, 2], cf[, 2]))
  say("rel diff logLik: default", maxrel(logLik(fit0), ll))
  say("max rel diff estimate: tight", maxrel(coef(fit_tight), cf[, 1]))
  say("max rel diff SE: tight", maxrel(summary(fit_tight)$coefficients[, 2], cf[, 2]))
  show_vcov(vcov(fit))
  invisible(fit)
}

## default fit, tight refit, exact (polished) fit; returns the exact one
three <- function(call) {
  fit0 <- run(call)
  show_glm(fit0)
  fitt <- show_tight(tight_call(call), fit0)
  fite <- show_exact(call, fitt, fit0)
  invisible(list(default = fit0, tight = fitt, exact = fite))
}

tight_call <- function(call) sub(")$", ", control = glm.control(epsilon = 1e-15, maxit = 100))", call)

cat("R.version.string: ", R.version.string, "\n", sep = "")
has_mass <- requireNamespace("MASS", quietly = TRUE)
cat("MASS installed: ", has_mass,
    if (has_mass) paste0(" (", as.character(packageVersion("MASS")), ")") else "", "\n", sep = "")

## ---------------------------------------------------------------- data
## Read relative to the repository root: ../shared/data/ (i.e. /work/shared/data when run from /work/main).
D <- file.path("..", "shared", "data")

## birthwt (MASS::birthwt): race 1=white, 2=black, 3=other, as an (unordered) factor with levels 1, 2, 3.
birthwt <- read.csv(file.path(D, "birthwt.csv"))
birthwt$race <- factor(birthwt$race)

## Insurance (MASS::Insurance): the CSV holds level codes 1-4. MASS has District as a factor and Group,
## Age as ORDERED factors (poly contrasts); here all three are UNORDERED factors (treatment contrasts,
## first level the baseline) with MASS's level order:
##   District "1", "2", "3", "4";  Group "<1l", "1-1.5l", "1.5-2l", ">2l";  Age "<25", "25-29", "30-35", ">35".
Insurance <- read.csv(file.path(D, "insurance.csv"))
Insurance$District <- factor(Insurance$District, levels = 1:4, labels = c("1", "2", "3", "4"))
Insurance$Group <- factor(Insurance$Group, levels = 1:4, labels = c("<1l", "1-1.5l", "1.5-2l", ">2l"))
Insurance$Age <- factor(Insurance$Age, levels = 1:4, labels = c("<25", "25-29", "30-35", ">35"))

## warpbreaks (datasets::warpbreaks): wool 1=A, 2=B; tension 1=L, 2=M, 3=H (R's level order).
warpbreaks <- read.csv(file.path(D, "warpbreaks.csv"))
warpbreaks$wool <- factor(warpbreaks$wool, levels = 1:2, labels = c("A", "B"))
warpbreaks$tension <- factor(warpbreaks$tension, levels = 1:3, labels = c("L", "M", "H"))

## mtcars (datasets::mtcars, car names dropped)
mtcars <- read.csv(file.path(D, "mtcars.csv"))

## the CSVs against R's own copies (values and, after the conversions above, factor levels)
stopifnot(isTRUE(all.equal(mtcars, datasets::mtcars, check.attributes = FALSE)))
stopifnot(identical(as.numeric(warpbreaks$breaks), datasets::warpbreaks$breaks),
          identical(warpbreaks$wool, datasets::warpbreaks$wool),
          identical(warpbreaks$tension, datasets::warpbreaks$tension))
if (has_mass) {
  mb <- MASS::birthwt
  stopifnot(identical(as.numeric(as.matrix(birthwt[, names(birthwt) != "race"])),
                      as.numeric(as.matrix(mb[, names(mb) != "race"]))),
            identical(as.integer(as.character(birthwt$race)), mb$race))
  mi <- MASS::Insurance
  stopifnot(identical(Insurance$District, mi$District),
            identical(Insurance$Group, factor(mi$Group, ordered = FALSE)),
            identical(Insurance$Age, factor(mi$Age, ordered = FALSE)),
            identical(as.numeric(Insurance$Holders), as.numeric(mi$Holders)),
            identical(as.numeric(Insurance$Claims), as.numeric(mi$Claims)))
  cat("data: birthwt, Insurance, warpbreaks, mtcars CSVs identical to R's copies\n")
} else {
  cat("data: warpbreaks, mtcars CSVs identical to R's copies (MASS absent: birthwt, Insurance not checked)\n")
}
cat("n: birthwt ", nrow(birthwt), ", Insurance ", nrow(Insurance), ", warpbreaks ", nrow(warpbreaks),
    ", mtcars ", nrow(mtcars), "\n", sep = "")

############################################################ 1. birthwt: binomial, logit / probit / cloglog
for (lk in c("logit", "probit", "cloglog")) {
  hdr(paste0("1. birthwt: binomial(link = \"", lk, "\")"))
  fam <- if (lk == "logit") "binomial" else paste0("binomial(link = \"", lk, "\")")
  three(paste0("glm(low ~ age + lwt + race + smoke + ptl + ht + ui + ftv, family = ", fam,
               ", data = birthwt)"))
}

############################################################ 2. Insurance: Poisson with offset
hdr("2. Insurance: poisson, offset log(Holders), unordered factors")
three("glm(Claims ~ District + Group + Age + offset(log(Holders)), family = poisson, data = Insurance)")

############################################################ 3. warpbreaks: Poisson
hdr("3. warpbreaks: poisson")
three("glm(breaks ~ wool + tension, family = poisson, data = warpbreaks)")

############################################################ 4. mtcars: lm and gaussian glm
hdr("4a. mtcars: lm")
fit <- run("lm(mpg ~ wt + hp, data = mtcars)")
s <- summary(fit); cf <- s$coefficients; ll <- logLik(fit)
n <- nobs(fit); p <- fit$rank; rss <- sum(residuals(fit)^2); y <- mtcars$mpg
says("names", rownames(cf))
say("estimate", cf[, 1])
say("std. error", cf[, 2])
say(colnames(cf)[3], cf[, 3])
say(colnames(cf)[4], cf[, 4])
say("logLik", ll)
say("logLik df", attr(ll, "df"))
say("nobs", n)
say("AIC", AIC(fit))
say("BIC", BIC(fit))
say("deviance (RSS)", deviance(fit))
say("null deviance (sum (y - ybar)^2)", sum((y - mean(y))^2))
say("df.residual", fit$df.residual)
say("sigma = sqrt(RSS/(n-p))", s$sigma)
say("sigma MLE = sqrt(RSS/n)", sqrt(rss / n))
say("dispersion = sigma^2", s$sigma^2)
say("r.squared, adj.r.squared", c(s$r.squared, s$adj.r.squared))
say("F statistic, numdf, dendf", s$fstatistic)
say("F p-value", pf(s$fstatistic[1], s$fstatistic[2], s$fstatistic[3], lower.tail = FALSE))
cat("   iter: not applicable (lm is one QR solve)\n")
say("score X'(y - fitted)", crossprod(model.matrix(fit), residuals(fit)))
say("SE with sigma MLE (SE*sqrt((n-p)/n))", cf[, 2] * sqrt((n - p) / n))
show_vcov(vcov(fit))

hdr("4b. mtcars: gaussian glm")
## logLik for the gaussian glm uses the MLE sigma^2 = RSS/n (and counts sigma as a parameter, df = p + 1);
## summary(fit)$dispersion is RSS/(n - p).
f4 <- three("glm(mpg ~ wt + hp, family = gaussian, data = mtcars)")
say("sigma MLE = sqrt(deviance/n)", sqrt(deviance(f4$exact) / nobs(f4$exact)))
say("sqrt(dispersion)", sqrt(summary(f4$exact)$dispersion))

############################################################ 5. warpbreaks: negative binomial
hdr("5. warpbreaks: negative binomial (MASS::glm.nb)")
if (has_mass) {
  nb_extra <- function(fit) {
    say("theta (size)", fit$theta)
    say("SE theta", fit$SE.theta)
    say("twologlik", fit$twologlik)
    mu <- fitted(fit); y <- fit$y; th <- fit$theta
    say("sum dnbinom(y, size=theta, mu, log)", sum(dnbinom(y, size = th, mu = mu, log = TRUE)))
    say("theta score at estimate", sum(digamma(y + th) - digamma(th) + log(th) + 1 -
                                         log(th + mu) - (y + th) / (th + mu)))
  }
  ## glm.nb: logLik df counts theta (p + 1); dispersion is 1; fit$iter is the number of outer
  ## (theta, IRLS) alternations; vcov is for the coefficients only, at the fitted theta.
  ## Not polished: the tight fit's scores (coefficients and theta) are already at ~1e-13.
  call <- "MASS::glm.nb(breaks ~ wool + tension, data = warpbreaks)"
  fit0 <- run(call)
  show_glm(fit0)
  nb_extra(fit0)
  fit <- show_tight(tight_call(call), fit0)
  nb_extra(fit)
  say("rel diff theta vs default", maxrel(fit0$theta, fit$theta))
  say("max rel diff SE vs (X'WX)^-1 at est.", maxrel(sqrt(diag(vcov(fit))), sqrt(diag(vcov_at(fit, 1)))))
  show_vcov(vcov(fit))
} else {
  cat("   MASS not installed: skipped\n")
}

############################################################ 6. mtcars: Gamma, log link
hdr("6. mtcars: Gamma(link = \"log\")")
## summary(fit)$dispersion is the Pearson estimate sum(w (y - mu)^2 / mu^2) / df.residual.
## logLik(fit) for Gamma is NOT at the dispersion estimate of summary(), nor at deviance/df:
## Gamma()$aic uses disp = deviance / n (n = sum of prior weights), i.e. shape = n / deviance:
##   logLik(fit) = sum(dgamma(y, shape = n/deviance, scale = mu * deviance/n, log = TRUE)),
## counted with df = p + 1 (checked below for the default and the exact fit).
## The MLE of the shape is MASS::gamma.shape.
f6 <- three("glm(mpg ~ wt + hp, family = Gamma(link = \"log\"), data = mtcars)")
for (nm in c("default", "exact")) {
  fit <- f6[[nm]]
  y <- fit$y; mu <- fitted(fit); n <- nobs(fit); dev <- deviance(fit)
  cat("   ", nm, " fit:\n", sep = "")
  say("deviance / df.residual", dev / fit$df.residual)
  say("deviance / n (used by logLik)", dev / n)
  say("sum dgamma(shape = n/dev, ...)", sum(dgamma(y, shape = n / dev, scale = mu * dev / n, log = TRUE)))
  say("logLik(fit)", logLik(fit))
}
if (has_mass) {
  ## shape MLE with the coefficients at the exact glm estimate: the gamma MLE of the mean
  ## coefficients does not depend on the shape, so (beta_hat, a_hat) is the joint MLE.
  fit <- f6$default
  cat("-- R: MASS::gamma.shape(fit)  # fit = the default glm; default it.lim = 10, eps.max = .Machine$double.eps^0.25\n")
  gs0 <- MASS::gamma.shape(fit)
  say("alpha (shape), SE", c(gs0$alpha, gs0$SE))
  fit <- f6$exact
  y <- fit$y; mu <- fitted(fit)
  cat("-- R: MASS::gamma.shape(fit, it.lim = 100, eps.max = 1e-10)  # fit = the exact glm (Newton: after a 1e-10 step the error is ~1e-20)\n")
  gs <- MASS::gamma.shape(fit, it.lim = 100, eps.max = 1e-10)
  a <- gs$alpha
  say("alpha (shape), SE", c(a, gs$SE))
  say("1/alpha (MLE dispersion)", 1 / a)
  say("shape score at alpha", sum(log(a) + 1 - digamma(a) + log(y) - log(mu) - y / mu))
  cat("   logLik at the MLE shape: sum(dgamma(y, shape = a, rate = a / mu, log = TRUE)), mu = fitted(fit)\n")
  say("logLik at MLE shape", sum(dgamma(y, shape = a, rate = a / mu, log = TRUE)))
  say("AIC at MLE shape (df = p + 1)", -2 * sum(dgamma(y, shape = a, rate = a / mu, log = TRUE)) + 2 * (fit$rank + 1))
  say("BIC at MLE shape (df = p + 1)", -2 * sum(dgamma(y, shape = a, rate = a / mu, log = TRUE)) + log(nobs(fit)) * (fit$rank + 1))
  V <- vcov_at(fit, 1 / a)
  cat("   vcov_shapeMLE = (1/alpha) (X'WX)^-1 at the exact estimate (the MLE covariance of the coefficients)\n")
  say("SE at estimate, dispersion 1/alpha", sqrt(diag(V)))
  show_vcov(V, "vcov_shapeMLE")
} else {
  cat("   MASS not installed: gamma.shape skipped\n")
}

############################################################ 7. birthwt aggregated: binomial successes/trials
hdr("7. birthwt aggregated by race and smoke: binomial cbind(s, t - s)")
## No shared dataset has a successes/trials form, so one is built from birthwt:
## s = number of low birth weights, t = number of births, per (race, smoke) cell.
cat("-- R: agg <- aggregate(cbind(s = low, t = 1) ~ race + smoke, data = birthwt, FUN = sum)\n")
cat("      agg$race <- as.integer(as.character(agg$race)); agg <- agg[order(agg$race, agg$smoke), ]\n")
agg <- aggregate(cbind(s = low, t = 1) ~ race + smoke, data = birthwt, FUN = sum)
agg$race <- as.integer(as.character(agg$race))
agg <- agg[order(agg$race, agg$smoke), ]
rownames(agg) <- NULL
print(agg)
says("race", agg$race); says("smoke", agg$smoke); says("s", agg$s); says("t", agg$t)
## the binomial logLik of the grouped form includes sum(lchoose(t, s))
say("sum(lchoose(t, s))", sum(lchoose(agg$t, agg$s)))
f7 <- three("glm(cbind(s, t - s) ~ factor(race) + smoke, family = binomial, data = agg)")

############################################################ 8. the same as 0/1 rows with frequency weights
hdr("8. birthwt aggregated as 0/1 rows with frequency weights")
cat("-- R: wt <- rbind(data.frame(race = agg$race, smoke = agg$smoke, y = 1, w = agg$s),\n")
cat("                  data.frame(race = agg$race, smoke = agg$smoke, y = 0, w = agg$t - agg$s))\n")
cat("      wt <- wt[order(wt$race, wt$smoke, -wt$y), ]\n")
wt <- rbind(data.frame(race = agg$race, smoke = agg$smoke, y = 1, w = agg$s),
            data.frame(race = agg$race, smoke = agg$smoke, y = 0, w = agg$t - agg$s))
wt <- wt[order(wt$race, wt$smoke, -wt$y), ]
rownames(wt) <- NULL
print(wt)
says("race", wt$race); says("smoke", wt$smoke); says("y", wt$y); says("w", wt$w)
## Same MLE, SEs and vcov as 7 (at the default control they differ at ~5e-8: different stopping
## points; the exact fits agree). Differences, by R's conventions: logLik has no lchoose term
## (= logLik of 7 minus sum(lchoose(t, s)) = logLik of the 189 ungrouped rows, 8b);
## nobs = number of rows with nonzero weight (12, not sum(w) = 189), which sets df.residual and
## BIC; the deviance is that of the 0/1 rows (= -2 logLik).
f8 <- three("glm(y ~ factor(race) + smoke, family = binomial, data = wt, weights = w)")
cat("   comparisons of the exact fits:\n")
say("max rel diff estimate 8 vs 7", maxrel(coef(f8$exact), coef(f7$exact)))
say("max rel diff SE 8 vs 7", maxrel(sqrt(diag(vcov(f8$exact))), sqrt(diag(vcov(f7$exact)))))
say("logLik(7) - sum(lchoose) - logLik(8)", logLik(f7$exact) - sum(lchoose(agg$t, agg$s)) - logLik(f8$exact))

hdr("8b. the same model on the 189 ungrouped birthwt rows")
f8b <- three("glm(low ~ race + smoke, family = binomial, data = birthwt)")
cat("   comparisons of the exact fits:\n")
say("max rel diff estimate 8b vs 8", maxrel(coef(f8b$exact), coef(f8$exact)))
say("max rel diff SE 8b vs 8", maxrel(sqrt(diag(vcov(f8b$exact))), sqrt(diag(vcov(f8$exact)))))
say("logLik(8b) - logLik(8)", logLik(f8b$exact) - logLik(f8$exact))

## Reference values for tests/test_testing.py: likelihood ratio, Wald and score tests, AIC tables.
## Run:  Rscript tests/reference/testing.R > tests/reference/testing.out 2>&1
suppressPackageStartupMessages({
  library(MASS)
  library(fitdistrplus)
  library(numDeriv)
  library(pscl)
  library(car)
})
f12 <- function(x) paste(sprintf("%.12g", x), collapse = "  ")
say <- function(label, x) cat(sprintf("%-48s: %s\n", label, f12(x)))
cat("R.version.string: ", R.version.string, "\n")
cat("MASS ", as.character(packageVersion("MASS")), " | fitdistrplus ",
    as.character(packageVersion("fitdistrplus")), " | pscl ", as.character(packageVersion("pscl")),
    " | car ", as.character(packageVersion("car")), "\n", sep = "")

## ------------------------------------------------------------- groundbeef: AIC table, LR
x <- read.csv("/work/shared/data/groundbeef.csv")$serving
ctl <- list(reltol = 1e-14)
fits <- list(gamma = fitdist(x, "gamma", control = ctl), weibull = fitdist(x, "weibull", control = ctl),
             lnorm = fitdist(x, "lnorm"), exp = fitdist(x, "exp"))
for (nm in names(fits)) {
  f <- fits[[nm]]
  say(paste0("groundbeef ", nm, " loglik / AIC / BIC"), c(f$loglik, f$aic, f$bic))
}
lr <- 2 * (fits$gamma$loglik - fits$exp$loglik)
say("groundbeef LR exp in gamma: stat, pchisq(1) upper", c(lr, pchisq(lr, 1, lower.tail = FALSE)))

## ------------------------------------------------------------- groundbeef gamma: Wald tests
ll <- function(p) sum(dgamma(x, shape = p[1], rate = p[2], log = TRUE))
est <- fits$gamma$estimate
V <- solve(-numDeriv::hessian(ll, est))    # inverse observed information (numDeriv)
say("gamma estimate (shape, rate)", est)
say("gamma cov (numDeriv) [11 12 22]", c(V[1, 1], V[1, 2], V[2, 2]))
w1 <- (est[1] - 1)^2 / V[1, 1]
say("Wald shape = 1", w1)
g <- c(est[1] - 4, est[2] - 0.05)
say("Wald shape = 4, rate = 0.05 (numDeriv cov)", drop(t(g) %*% solve(V, g)))
lh <- linearHypothesis(fits$gamma, c("shape = 4", "rate = 0.05"))
say("car::linearHypothesis (fitdist's optim cov)", lh$Chisq[2])

## ------------------------------------------------------------- toxocara: boundary LR tests
y <- read.csv("/work/shared/data/toxocara.csv")$number
pois <- glm(y ~ 1, family = poisson)
nb <- glm.nb(y ~ 1)
zip <- zeroinfl(y ~ 1 | 1, dist = "poisson")
say("toxocara poisson / nb / zip loglik", c(logLik(pois), logLik(nb), logLik(zip)))
invisible(capture.output(od <- odTest(nb)))  # prints its own 2.7055 critical value
stat <- 2 * (logLik(nb) - logLik(pois))
say("toxocara odTest: stat, pchisq(1)/2", c(stat, pchisq(stat, 1, lower.tail = FALSE) / 2))
say("odTest critical value at 0.05 = qchisq(0.90, 1)", qchisq(0.90, 1))

## a count table with a few extra zeros: zero-inflated Poisson vs Poisson
z <- rep(0:8, times = c(16, 30, 45, 45, 34, 20, 10, 4, 2))
zp <- glm(z ~ 1, family = poisson)
zz <- zeroinfl(z ~ 1 | 1, dist = "poisson", control = zeroinfl.control(reltol = 1e-14))
stat <- 2 * (logLik(zz) - logLik(zp))
say("table A: poisson / zip loglik", c(logLik(zp), logLik(zz)))
say("table A: LR stat, pchisq(1)/2", c(stat, pchisq(stat, 1, lower.tail = FALSE) / 2))

## a mildly over-dispersed count table: negative binomial vs Poisson (pscl::odTest)
v <- rep(0:10, times = c(12, 32, 42, 42, 30, 20, 11, 6, 3, 2, 1))
vp <- glm(v ~ 1, family = poisson)
vnb <- glm.nb(v ~ 1)
stat <- 2 * (logLik(vnb) - logLik(vp))
say("table B: poisson / nb loglik", c(logLik(vp), logLik(vnb)))
say("table B: LR stat, pchisq(1)/2", c(stat, pchisq(stat, 1, lower.tail = FALSE) / 2))

## ------------------------------------------------------------- score (Rao) test, Poisson
## R's Rao test uses the expected information: (sum y - n lambda0)^2 / (n lambda0)
n <- length(y)
m0 <- glm(y ~ 0 + offset(rep(log(8), n)), family = poisson)
rao <- anova(m0, pois, test = "Rao")
say("toxocara Rao lambda = 8: stat, p", c(rao$Rao[2], rao$`Pr(>Chi)`[2]))

## Gaussian mixtures on Old Faithful (../shared/data/faithful.csv, R's datasets::faithful),
## fitted by mclust with a tight EM tolerance, as references for tests/test_mixture.py.
## Run from the repository root:  Rscript tests/reference/mixture.R > tests/reference/mixture.out
## R 4.2.2, mclust as installed here (version printed below).
suppressMessages(library(mclust))
d <- read.csv("../shared/data/faithful.csv")
stopifnot(isTRUE(all.equal(d, datasets::faithful, check.attributes = FALSE)))
cat("mclust", as.character(packageVersion("mclust")), "\n")
show <- function(title, fit) {
  cat("====", title, "====\n")
  cat("loglik", sprintf("%.17g", fit$loglik), "\n")
  cat("pro", sprintf("%.17g", fit$parameters$pro), "\n")
  cat("mean", sprintf("%.17g", as.vector(fit$parameters$mean)), "\n")
  cat("variance", sprintf("%.17g", as.vector(fit$parameters$variance$sigma)), "\n")
}
ctrl <- emControl(tol = c(1e-14, sqrt(.Machine$double.eps)), itmax = c(.Machine$integer.max, .Machine$integer.max))
## the calls:
f2 <- Mclust(d, G = 2, modelNames = "VVV", control = ctrl, verbose = FALSE)
show('Mclust(faithful, G=2, modelNames="VVV", control=emControl(tol=c(1e-14, sqrt(eps))))', f2)
f1 <- Mclust(d$waiting, G = 2, modelNames = "V", control = ctrl, verbose = FALSE)
show('Mclust(faithful$waiting, G=2, modelNames="V", control=emControl(tol=c(1e-14, sqrt(eps))))', f1)
d3 <- Mclust(d, G = 3, modelNames = "VVV", control = ctrl, verbose = FALSE)
show('Mclust(faithful, G=3, modelNames="VVV", control=emControl(tol=c(1e-14, sqrt(eps))))', d3)
## the default tolerance stops early (the issue: 5.6e-3 short)
f0 <- Mclust(d, G = 2, modelNames = "VVV", verbose = FALSE)
show('Mclust(faithful, G=2, modelNames="VVV") default tolerance', f0)

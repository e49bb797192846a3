// CMU PocketSphinx 5prealpha from Debian (libpocketsphinx-dev) and the sphinxbase
// headers it builds on: the decoder, its configuration, logging and log-math.
#include <pocketsphinx.h>
#include <sphinxbase/cmd_ln.h>
#include <sphinxbase/err.h>
#include <sphinxbase/logmath.h>

// The declaration in include/CFuzzerDriver.h is the whole module; SwiftPM needs a source file.
#include "CFuzzerDriver.h"

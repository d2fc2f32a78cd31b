// libprotobuf is C++ and used only by the C++ bridges; this module exists to carry its
// pkg-config flags (include path and -lprotobuf) to them.

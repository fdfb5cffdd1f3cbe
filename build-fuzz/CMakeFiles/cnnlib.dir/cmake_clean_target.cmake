file(REMOVE_RECURSE
  "libcnn.a"
)

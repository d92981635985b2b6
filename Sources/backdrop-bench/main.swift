print("backdrop-bench")

"""AWS protocol pieces the wrapper implements itself (no boto3 needed at run time)."""

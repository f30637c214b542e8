"""Audio in and out: microphones, speakers, WAV files, resampling and endpointing."""

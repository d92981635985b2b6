import ImageData
import NN
